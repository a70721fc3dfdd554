"""Lesson 7: Capstone (recommender and compression tracks; evaluation and deployment).

**The question.** Can we build, evaluate and ship a model end to end, honestly? Two tracks:
(1) a movie recommender on real MovieLens-100k, judged against published results for each model
family; (2) compression of a trained MNIST network by pruning, low-rank factorisation and
distillation, then the same deployment discipline for both: artifacts that reload identically,
verified by hash before anything is deserialised, and a served model that meets its latency SLO.

**Data card.** MovieLens-100k (GroupLens, Harper & Konstan 2015): 100,000 ratings 1-5 by 943 users
of 1,682 films, every user with >= 20 ratings; one fixed 80/20 split (seed 0) whose 40 cold-start
test rows (user or film unseen in train) are dropped, leaving 19,960 test ratings
(L7.recommender.data_contract). MNIST: 4,000 training images drawn stratified from the official 60,000 and
1,000 test images drawn stratified from the official 10,000 (an mnist5k-style subset).

**Recommender track.** Global mean, regularised user + item biases, biased MF (k = 32, its L2 weight
chosen by 10 Optuna trials on a validation slice of train) and Spark ALS (rank 10), each judged against a
published ml-100k RMSE for its family plus three fold SDs of split noise (specs/l7_capstone/claims.yaml
cites the sources; the measured RMSEs are in the claims below: L7.recommender.baselines, L7.recommender.mf,
L7.recommender.spark_als). Ranking (L7.recommender.ranking) compares the MF's top-10 with a random and a most-popular
list; for it the MF's L2 penalty counts each parameter once instead of once per rating.

**Compression track.** An MLP 784-256-10 pruned globally at 50% and 90% (with and without a masked
fine-tuning epoch), its first layer replaced by its rank-32 SVD factors, and a 784-32-10 student
distilled from a small CNN teacher, compared with the same student trained from scratch, both trained
to their validation plateau over 5 seeds; accuracy, size and latency of each are in the table under
L7.deploy.latency and the accuracy-vs-size plot, the served model's p50/p99 in the same claim.

**What was learned.** Baselines first: the bias model alone takes most of the way from the global
mean to MF. Tune on a slice of train and read the test set once. Matching a published number needs
the published protocol (5-fold CV vs our one split: hence the split-noise allowance). Unstructured
sparsity shrinks storage (CSR) but not dense-kernel latency; low rank shrinks both.

**What did not work at first.** Ranking by the RMSE-tuned MF, whose L2 penalty is charged on every
rating (Funk's SGD form), beat a random list by less than the catalog's 5x and lost to the plain
most-popular list: that penalty shrinks a film's bias by the same share however few ratings it has,
so films with one or two high ratings fill the top-10. Counting each parameter's penalty once (the
MAP form, which shrinks rarely-rated films' biases most) fixed the ratio at about the same validation
RMSE; the per-rating model's ranking is still recorded beside it. Both forms still rank below the
most-popular list, which no RMSE objective sees: a ranking model would have to be trained for ranking. Distillation first looked harmful: after the
catalog's 5 epochs the distilled student trailed the scratch one, but that measured how fast each
learns (softened targets are slower), not where each ends; trained to their plateaus the comparison
is the claim's. Both were our implementation's weaknesses, not the course's.
"""
