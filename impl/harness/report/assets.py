"""The index page's inline style and script (no file, font or script is fetched from anywhere).

The script filters claims client-side: each `section.claim` carries data-lesson, data-verdict,
data-markers, data-flag and data-change; free text matches the section's text. Opening an anchor
to a claim the filters hide clears the filters.
"""
from __future__ import annotations

# Only inline style and script, images from data: URIs; everything else is refused by the browser.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1em auto;padding:0 .8em;color:#222;line-height:1.35}
table{border-collapse:collapse;margin:.5em 0;display:block;overflow-x:auto;max-width:100%}
td,th{border:1px solid #ccc;padding:.25em .5em;font-size:.9em;vertical-align:top;overflow-wrap:anywhere}
th{overflow-wrap:normal}
.v{font-weight:600;padding:0 .4em;border-radius:3px}.holds{background:#d4f4d4}.refuted{background:#f8caca}
.error{background:#f4a0a0}.not-run{background:#e6e6e6}.known-refuted{background:#f6e3b4}
blockquote{margin:.5em 0;padding:.3em 1em;border-left:4px solid #99b;background:#f6f6fb;white-space:pre-wrap}
.meta{color:#666;font-size:.8em;overflow-wrap:anywhere}img{max-width:100%;height:auto}
section.claim{border-top:1px solid #ddd;margin-top:1.2em}figure{margin:.5em 0}figcaption{color:#666;font-size:.8em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:1em}
.totals span{display:inline-block;margin:.2em .4em .2em 0;padding:.2em .6em;border-radius:3px}
.bar{display:flex;height:1em;min-width:8em;border:1px solid #bbb;border-radius:2px;overflow:hidden}
.bar span{display:block;height:100%}
.bars td:nth-child(2){width:50%}
.chg{font-size:.75em;font-weight:600;color:#fff;background:#557;border-radius:3px;padding:0 .35em}
.chg.newly-refuted{background:#b22}.chg.newly-holding{background:#272}
svg.trend{vertical-align:middle;margin-left:.5em}svg.trend polyline{fill:none;stroke:#335;stroke-width:2.4}
svg.trend .limit{stroke:#c44;stroke-dasharray:6 4;stroke-width:2}svg.trend circle{fill:#335}
a.anchor{color:#aaa;text-decoration:none;margin-right:.3em}
form#filters{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ddd;z-index:1;
display:flex;flex-wrap:wrap;gap:.4em;align-items:center}
form#filters select,form#filters input{font-size:1em;max-width:100%}form#filters input{flex:1 1 12em}
details.evidence{margin:.4em 0}details.evidence summary{cursor:pointer;color:#335}
code{overflow-wrap:anywhere}
@media (max-width:600px){body{padding:0 .4em}h1{font-size:1.4em}td,th{font-size:.8em;padding:.2em .3em}}
"""

SCRIPT = """
(function(){
var form=document.getElementById('filters');if(!form)return;
var claims=Array.prototype.slice.call(document.querySelectorAll('section.claim'));
var lessons=Array.prototype.slice.call(document.querySelectorAll('section.lesson'));
var fields=['lesson','verdict','marker','flag','change','text'].map(function(n){return document.getElementById('f-'+n);});
var texts=null;
function apply(){
 var v=fields.map(function(f){return f.value.trim().toLowerCase();});var shown=0;var active=v.some(Boolean);
 if(v[5]&&!texts){texts=claims.map(function(c){return c.textContent.toLowerCase();});}
 claims.forEach(function(c,i){var d=c.dataset;
  var ok=(!v[0]||d.lesson===v[0])&&(!v[1]||d.verdict===v[1])&&(!v[2]||(' '+d.markers+' ').indexOf(' '+v[2]+' ')>=0)
   &&(!v[3]||(v[3]==='any'?d.flag!=='':d.flag.toLowerCase()===v[3]))&&(!v[4]||(v[4]==='any'?d.change!=='':d.change===v[4]))
   &&(!v[5]||texts[i].indexOf(v[5])>=0);
  c.hidden=!ok;if(ok)shown++;});
 lessons.forEach(function(s){s.hidden=active&&!s.querySelector('section.claim:not([hidden])');});
 document.getElementById('f-count').textContent=shown+' of '+claims.length+' claims shown';
}
function reveal(){var id=decodeURIComponent(location.hash.slice(1));var el=id&&document.getElementById(id);
 if(el&&el.closest('[hidden]')){fields.forEach(function(f){f.value='';});apply();el.scrollIntoView();}}
fields.forEach(function(f){f.addEventListener('input',apply);f.addEventListener('change',apply);});
form.addEventListener('submit',function(e){e.preventDefault();});
window.addEventListener('hashchange',reveal);apply();reveal();
})();
"""
