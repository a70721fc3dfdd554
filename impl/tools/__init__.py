"""Developer tools that judge the project itself (mutation testing); no lesson or stage imports them."""
