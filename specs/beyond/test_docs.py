import numpy as np
import pytest

from impl.beyond import etl, movie_titles, snippets
from impl.data import mnist

X5 = np.arange(1.0, 6.0)  # the roadmap snippets' five points


@pytest.mark.cpu
def test_snippets(claim):
    """The roadmap's snippets, run offline, give pinned results: mean / median / mode of
    [1, 2, 2, 3, 4, 7, 9] are 4.0 / 3.0 / 2 (count 2); [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] =
    [[19, 22], [43, 50]]; gradient descent for y = 2x + 3 on x = 1..5 (lr 0.01, 1,000 epochs) ends
    at slope 2.0213 and intercept 2.9232 (each +-0.001); `LinearRegression` on y = 2x predicts
    2, 4, 6, 8, 10 at x = 1..5 to 1e-10; `DecisionTreeRegressor` reproduces its training targets;
    the five iris classifiers (logistic regression, k-NN, tree, forest, RBF SVM; test_size 0.3,
    random_state 0) each score >= 0.93. The AI-wiki digests' ETL example (sales table: drop rows with
    a missing value, total_price = quantity x unit_price) loaded into SQLite through the standard
    library's sqlite3 and read back gives the cleaned frame exactly, with original minus
    incomplete rows.

    Course: beyond the course (roadmap code examples: statistics, matrix product, gradient descent,
    scikit-learn; AI-wiki digests: ETL).
    """
    stats = snippets.describe([1, 2, 2, 3, 4, 7, 9])
    claim.expect("stats", stats, "==", {"mean": 4.0, "median": 3.0, "mode": 2.0, "mode_count": 2})
    claim.expect("matrix_product", (np.array([[1, 2], [3, 4]]) @ np.array([[5, 6], [7, 8]])).tolist(), "==",
                 [[19, 22], [43, 50]])
    w, b = snippets.gradient_descent_line(X5, 2 * X5 + 3, 0.01, 1000)
    claim.expect("gd_slope_minus_2.0213", abs(w - 2.0213), "<=", "pinned_tol")
    claim.expect("gd_intercept_minus_2.9232", abs(b - 2.9232), "<=", "pinned_tol")
    predictions = snippets.regressors_on_points(X5, 2 * X5, X5)
    claim.expect("linear_max_error", float(np.abs(predictions["linear"] - 2 * X5).max()), "<=", 1e-10)
    claim.expect("tree_reproduces_targets", predictions["tree"].tolist(), "==", (2 * X5).tolist())
    scores = snippets.iris_scores(0.3, 0)
    claim.record(iris_scores=scores)
    claim.expect("worst_iris_score", min(scores.values()), ">=", "min_iris_accuracy")
    raw = etl.raw_sales(1000, claim.rng(0))
    cleaned = etl.clean(raw)
    claim.expect("rows_kept", len(cleaned), "==", len(raw) - int(raw.isna().any(axis=1).sum()))
    claim.expect("total_price_is_product", bool((cleaned["total_price"] == cleaned["quantity"] * cleaned["unit_price"]).all()),
                 "==", True)
    claim.expect("sqlite3_round_trip_equal", bool(etl.round_trip(cleaned, "sqlite3").equals(cleaned)), "==", True)


@pytest.mark.cpu
@pytest.mark.flag("F22")
@pytest.mark.xfail(strict=True, reason="after 1,000 epochs at lr 0.01: slope 2.02128, intercept 2.92317 "
                                       "(intercept 0.077 from 3); 2,282 epochs are needed for 1e-3")
def test_notes_gd_converged(claim):
    """As the roadmap's gradient-descent snippet presents it: 1,000 epochs at lr 0.01 recover the line
    y = 2x + 3 from the five points x = 1..5 (slope 2 and intercept 3, each to 1e-3).

    Known refuted: the loss surface's Hessian has eigenvalues 0.338 and 23.66, so the slow direction
    shrinks by only 0.9966 per epoch. The corrected statement is B.docs.gd_not_converged.
    Course: beyond the course (roadmap: the gradient-descent code example).
    """
    w, b = snippets.gradient_descent_line(X5, 2 * X5 + 3, 0.01, 1000)
    claim.record(slope=w, intercept=b)
    claim.expect("slope_error", abs(w - 2.0), "<=", "fit_tol")
    claim.expect("intercept_error", abs(b - 3.0), "<=", "fit_tol")


@pytest.mark.cpu
@pytest.mark.flag("F22")
def test_gd_not_converged(claim):
    """The roadmap's gradient descent (w = b = 0, lr 0.01, mean-squared error on x = 1..5, y = 2x + 3)
    stops after 1,000 epochs at slope 2.0213 and intercept 2.9232 (+-0.001), short of (2, 3); both come
    within 1e-3 of the least-squares line only after 2,000-3,000 epochs (measured 2,282), as the
    Hessian's eigenvalues 0.338 and 23.66 predict (0.001 / 0.077 = 0.9966^k gives k of about 1,300
    more epochs).

    Course: beyond the course (roadmap: the gradient-descent code example, corrected).
    """
    w, b = snippets.gradient_descent_line(X5, 2 * X5 + 3, 0.01, 1000)
    claim.expect("slope_minus_2.0213", abs(w - 2.0213), "<=", "pinned_tol")
    claim.expect("intercept_minus_2.9232", abs(b - 2.9232), "<=", "pinned_tol")
    hessian = 2 * np.array([[np.mean(X5**2), np.mean(X5)], [np.mean(X5), 1.0]])
    claim.record(hessian_eigenvalues=np.linalg.eigvalsh(hessian))
    epochs = snippets.epochs_to_tolerance(X5, 2 * X5 + 3, 0.01, 1e-3, 100_000)
    claim.expect("epochs_to_1e-3_at_least", epochs, ">=", 2000)
    claim.expect("epochs_to_1e-3_at_most", epochs, "<=", 3000)


@pytest.mark.cpu
@pytest.mark.flag("F23")
@pytest.mark.xfail(strict=True, reason="Keras refuses the unflattened (n, 28, 28) input: the Dense layer built "
                                       "for shape (None, 784) gets (None, 28, 28) (ValueError)")
def test_notes_keras_mlp(claim):
    """As the roadmap's Keras MNIST snippet has it: a Sequential MLP whose first Dense layer is
    declared with input_shape (784,) trains on the 28 x 28 image arrays as loaded (here the 4,000-image
    MNIST subset, 1 epoch) and scores above chance on the test subset.

    Known refuted: the arrays are never flattened, so `fit` raises on the shape. The corrected
    statement is B.docs.keras_mlp_flattened.
    Course: beyond the course (roadmap: the Keras MNIST code example).
    """
    train, test = mnist.subset("train", 4000, 0), mnist.subset("test", 1000, 0)
    try:
        accuracy, error = snippets.keras_mlp_accuracy(train.X, train.y, test.X, test.y, False, 1), None
    except ValueError as exc:
        accuracy, error = None, str(exc).splitlines()[0][:300]
    claim.record(error=error)
    claim.expect("snippet_trained", accuracy is not None, "==", True)


@pytest.mark.cpu
@pytest.mark.flag("F23")
def test_keras_mlp_flattened(claim):
    """The roadmap's Keras MLP (Dense 128 ReLU on 784 inputs, Dense 10 softmax, Adam, batch 32) trains
    once the 28 x 28 images are reshaped to 784-vectors: 3 epochs on the 4,000-image MNIST subset
    (pixels / 255) reach >= 0.90 test accuracy on the 1,000-image test subset.

    Course: beyond the course (roadmap: the Keras MNIST code example, corrected; the download replaced
    by the project's verified MNIST).
    """
    train, test = mnist.subset("train", 4000, 0), mnist.subset("test", 1000, 0)
    accuracy = snippets.keras_mlp_accuracy(train.X, train.y, test.X, test.y, True, 3)
    claim.expect("test_accuracy", accuracy, ">=", "min_accuracy")


@pytest.mark.cpu
@pytest.mark.flag("F24")
@pytest.mark.xfail(strict=True, reason="KNeighborsRegressor() with its default k = 5 on 5 points predicts "
                                       "6.0 everywhere; max error on the training points 4.0")
def test_notes_knn_fits(claim):
    """As the roadmap's scikit-learn snippet presents it: `KNeighborsRegressor()` fitted to the five
    points of y = 2x (x = 1..5) predicts them back (each within 0.5).

    Known refuted: the default k = 5 equals the number of points, so every prediction is their mean,
    6.0. The corrected statement is B.docs.knn_constant.
    Course: beyond the course (roadmap: the scikit-learn code example).
    """
    predictions = snippets.regressors_on_points(X5, 2 * X5, X5)["knn_default"]
    claim.record(predictions=predictions)
    claim.expect("max_error_on_training_points", float(np.abs(predictions - 2 * X5).max()), "<=", 0.5)


@pytest.mark.cpu
@pytest.mark.flag("F24")
def test_knn_constant(claim):
    """`KNeighborsRegressor()` (k = 5) fitted to the five points of y = 2x predicts exactly 6.0, their
    mean, at every x in -10..10 (the training points included); with n_neighbors=1 it reproduces the
    training targets exactly.

    Course: beyond the course (roadmap: the scikit-learn code example, corrected).
    """
    x_new = np.linspace(-10, 10, 41)
    predictions = snippets.regressors_on_points(X5, 2 * X5, x_new)
    claim.expect("distinct_predictions", sorted(set(predictions["knn_default"].tolist())), "==", [6.0])
    claim.expect("k1_on_training_points", snippets.regressors_on_points(X5, 2 * X5, X5)["knn_1"].tolist(), "==",
                 (2 * X5).tolist())


def _items():
    reason = movie_titles.unavailable_reason()
    if reason:
        pytest.skip(reason)
    return movie_titles.items()


@pytest.mark.cpu
@pytest.mark.flag("F52")
@pytest.mark.xfail(strict=True, reason="pandas >= 2: str.replace without regex=True treats the year pattern as "
                                       "literal text; 0 of the 1,681 titles with a year changed")
def test_notes_title_regex(claim):
    """As the MovieLens recommender snippet has it: `titles.str.replace(r" \\(\\d{4}\\)", "")` strips
    the release year from every MovieLens-100k title that has one.

    Known refuted under pandas >= 2 (`regex` defaults to False). The corrected statement is
    B.docs.title_regex_true. Course: beyond the course (AI-wiki digests: the MovieLens recommender).
    """
    titles = _items()["movie_title"]
    with_year = int(titles.str.contains(r" \(\d{4}\)", regex=True).sum())
    changed = int((movie_titles.strip_years(titles, False) != titles).sum())
    claim.record(titles=len(titles), titles_with_year=with_year, pandas_version=__import__("pandas").__version__)
    claim.expect("titles_changed", changed, "==", with_year)


@pytest.mark.cpu
@pytest.mark.flag("F52")
def test_title_regex_true(claim):
    """With `regex=True`, `str.replace(r" \\(\\d{4}\\)", "")` strips the year from every one of the
    MovieLens-100k titles that has one (1,681 of 1,682) and leaves no " (yyyy)" behind; pandas'
    default (regex=False) changes none of them.

    Course: beyond the course (AI-wiki digests: the MovieLens recommender, corrected).
    """
    titles = _items()["movie_title"]
    with_year = int(titles.str.contains(r" \(\d{4}\)", regex=True).sum())
    stripped = movie_titles.strip_years(titles, True)
    claim.expect("titles_changed_with_regex", int((stripped != titles).sum()), "==", with_year)
    claim.expect("years_left", int(stripped.str.contains(r" \(\d{4}\)", regex=True).sum()), "==", 0)
    claim.expect("titles_changed_by_default", int((movie_titles.strip_years(titles, False) != titles).sum()), "==", 0)


def _genres_and_mean_ratings():
    from impl.data import movielens

    items = _items()
    ratings = movielens.ratings()
    counts = np.bincount(ratings.item, minlength=len(items) + 1)[1:]
    mean = np.bincount(ratings.item, weights=ratings.rating, minlength=len(items) + 1)[1:] / counts
    genres = items[list(movie_titles.GENRES)].to_numpy(dtype=float)
    return genres, mean


@pytest.mark.cpu
@pytest.mark.flag("F52")
@pytest.mark.xfail(strict=True, reason="after adding each movie's mean rating (1-5) to every coordinate, movies "
                                       "with no genre in common have cosine similarity >= 0.907 (median 0.99)")
def test_notes_rating_embedding(claim):
    """As the MovieLens recommender snippet does it: adding a movie's rating to every coordinate of its
    content embedding (here its 19 MovieLens genre indicators; rating = its mean rating) keeps
    content-based similarity meaningful: two movies that share no genre stay dissimilar (cosine <= 0.5).

    Known refuted: the scalar shifts every vector along the all-ones direction. The corrected
    statement is B.docs.rating_embedding_collapse.
    Course: beyond the course (AI-wiki digests: the MovieLens recommender).
    """
    genres, mean = _genres_and_mean_ratings()
    similarity = movie_titles.cosine_similarity(movie_titles.add_rating(genres, mean))
    disjoint = (genres @ genres.T) == 0
    claim.expect("max_similarity_of_disjoint_genre_pairs", float(similarity[disjoint].max()), "<=", 0.5)


@pytest.mark.cpu
@pytest.mark.flag("F52")
def test_rating_embedding_collapse(claim):
    """On MovieLens-100k, adding each movie's mean rating to every coordinate of its 19-genre indicator
    vector makes all movies point nearly the same way: the cosine similarity of every pair that shares
    no genre rises from exactly 0 (genre vectors alone) to >= 0.9, so it no longer separates movies
    sharing a genre from movies sharing none as well (ROC AUC of similarity for "shares a genre" <= 0.9, measured 0.82, from
    1.0 on the genre vectors). Keep content similarity on the content vectors, and the rating a
    separate term.

    Course: beyond the course (AI-wiki digests: the MovieLens recommender, corrected).
    """
    from sklearn.metrics import roc_auc_score

    genres, mean = _genres_and_mean_ratings()
    genres_nonzero = genres.sum(axis=1) > 0
    genres, mean = genres[genres_nonzero], mean[genres_nonzero]
    plain = movie_titles.cosine_similarity(genres)
    mixed = movie_titles.cosine_similarity(movie_titles.add_rating(genres, mean))
    upper = np.triu_indices(len(genres), 1)
    shares = (genres @ genres.T)[upper] > 0
    claim.record(movies=len(genres), disjoint_pairs=int((~shares).sum()))
    claim.expect("plain_max_disjoint_similarity", float(plain[upper][~shares].max()), "==", 0.0)
    claim.expect("mixed_min_disjoint_similarity", float(mixed[upper][~shares].min()), ">=", "min_collapsed_similarity")
    claim.expect("plain_auc_shares_genre", float(roc_auc_score(shares, plain[upper])), "==", 1.0)
    claim.expect("mixed_auc_shares_genre", float(roc_auc_score(shares, mixed[upper])), "<=", "max_mixed_auc")


@pytest.mark.cpu
@pytest.mark.flag("F54")
def test_etl_sqlalchemy_equivalent(claim):
    """The digests' ETL example loads through a SQLAlchemy engine; through the standard library's
    sqlite3 connection instead (the catalog's substitute) the cleaned sales frame comes back
    identical, values and dtypes, to the one read back through SQLAlchemy (installed here as Optuna's
    storage layer), and both equal the frame written.

    Course: beyond the course (AI-wiki digests: ETL with pandas and SQL).
    """
    import pandas as pd

    cleaned = etl.clean(etl.raw_sales(1000, claim.rng(0)))
    via_sqlite3, via_sqlalchemy = etl.round_trip(cleaned, "sqlite3"), etl.round_trip(cleaned, "sqlalchemy")
    pd.testing.assert_frame_equal(via_sqlite3, via_sqlalchemy, check_exact=True)
    pd.testing.assert_frame_equal(via_sqlite3, cleaned, check_exact=True)
    claim.record(rows=len(cleaned), dtypes={k: str(v) for k, v in via_sqlite3.dtypes.items()})
