"""Lesson 7: Capstone (recommender and compression tracks; evaluation and deployment).

**The question.** Can we build, evaluate and ship a model end to end, honestly? Two tracks:
(1) a movie recommender on real MovieLens-100k, judged against published results for each model
family; (2) compression of a trained MNIST network by pruning, low-rank factorisation and
distillation, then the same deployment discipline for both: artifacts that reload identically,
verified by hash before anything is deserialised, and a served model that meets its latency SLO.

**Data card.** MovieLens-100k (GroupLens, Harper & Konstan 2015): 100,000 ratings 1-5 by 943 users
of 1,682 films, every user with >= 20 ratings; one fixed 80/20 split (seed 0) whose 40 cold-start
test rows (user or film unseen in train) are dropped, leaving 19,960 test ratings
(L7.rec.data_contract). MNIST: 4,000 training images drawn stratified from the official 60,000 and
1,000 test images drawn stratified from the official 10,000 (an mnist5k-style subset).

**Recommender track.** Global mean, regularised user + item biases, biased MF (k = 32, its L2 weight
chosen by 10 Optuna trials on a validation slice of train) and Spark ALS (rank 10), each judged against a
published ml-100k RMSE for its family plus three fold SDs of split noise (specs/l7_capstone/claims.yaml
cites the sources; the measured RMSEs are in the claims below: L7.rec.baselines, L7.rec.mf,
L7.rec.spark_als). Ranking (L7.rec.ranking) compares the MF's top-10 with a random and a most-popular
list.

**Compression track.** An MLP 784-256-10 pruned globally at 50% and 90% (with and without a masked
fine-tuning epoch), its first layer replaced by its rank-32 SVD factors, and a 784-32-10 student
distilled from a small CNN teacher; accuracy, size and latency of each are in the table under
L7.deploy.latency and the accuracy-vs-size plot, the served model's p50/p99 in the same claim.

**What was learned.** Baselines first: the bias model alone takes most of the way from the global
mean to MF. Tune on a slice of train and read the test set once. Matching a published number needs
the published protocol (5-fold CV vs our one split: hence the split-noise allowance). Unstructured
sparsity shrinks storage (CSR) but not dense-kernel latency; low rank shrinks both.

**What did not work.** RMSE-optimal MF is a poor top-10 recommender: it beats a random list by less
than the claimed 5x and loses to the plain most-popular list (it surfaces rarely-rated films with a
few high ratings); a ranking model would have to be trained for ranking. Distillation at T = 4,
alpha = 0.9 with 5 epochs on 4,000 images did not help a small student. Both are kept as known-refuted
claims with their numbers rather than loosened.
"""
