namespace DinCluster.Data.Importers;

/// <summary>
/// `import movielens`: ratings.csv (userId,movieId,rating,timestamp) and movies.csv (movieId,title,genres)
/// of the MovieLens latest / 20M / 25M releases, with the DIN paper's protocol: rating &gt;= 4 is a positive,
/// below is a negative; an item's category is its FIRST genre; a sample's history is the user's earlier
/// positively rated movies; the split is by users (10% of them, seeded, to test) unless --split says otherwise.
/// </summary>
public static class MovieLensImporter
{
    private const int MinRatingLineBytes = 16;   // "1,1,4.0,96498270"

    public static ImportReport Run(string ratingsPath, string moviesPath, ImportOptions options, TextWriter log, double threshold = 4)
    {
        // the movies first: a rating of an unknown movie is then a bad line in file order
        var genres = new Vocabulary("categories");
        var movieCategory = new Dictionary<long, long>();
        using var ratings = new CsvReader(ratingsPath);
        var user = ratings.Column("userId", "MovieLens ratings.csv");
        var movie = ratings.Column("movieId", "MovieLens ratings.csv");
        var rating = ratings.Column("rating", "MovieLens ratings.csv");
        var timestamp = ratings.Column("timestamp", "MovieLens ratings.csv");
        using var run = new ImportRun("movielens", options, new SplitSpec.Users(0.1), 50, log);
        log.WriteLine($"import movielens: {ratingsPath} + {moviesPath} -> {options.OutDir}");

        long movieRows = 0;
        using (var movies = new CsvReader(moviesPath))
        {
            var id = movies.Column("movieId", "MovieLens movies.csv");
            var genreColumn = movies.Column("genres", "MovieLens movies.csv");
            var cells = new Cells(movies, run.Bad);
            while (movies.Read())
            {
                movieRows++;
                if (!cells.Shape() || !cells.Long(id, "movieId", out var m)) continue;
                // "Adventure|Animation|Children" -> "Adventure"; "(no genres listed)" is a category of its own
                var all = movies[genreColumn].Trim();
                var bar = all.IndexOf('|');
                var first = (bar < 0 ? all : all[..bar]).Trim();
                if (first.IsEmpty)
                {
                    cells.Bad(BadLineReason.MissingField, "genres is empty");
                    continue;
                }
                if (movieCategory.ContainsKey(m))
                {
                    cells.Bad(BadLineReason.DuplicateItem, $"movieId {m} is listed again (the first line is kept)");
                    continue;
                }
                movieCategory[m] = genres.Add(first.ToString());
            }
        }
        run.RowsRead(moviesPath, movieRows);

        using var spill = run.CreateSpill<EventRecord>(InputFiles.Size(ratingsPath) / MinRatingLineBytes * 48);
        var items = new HashSet<long>();
        var categories = new HashSet<long>();
        var ratingCells = new Cells(ratings, run.Bad);
        long rows = 0;
        while (ratings.Read())
        {
            rows++;
            if (!ratingCells.Shape()) continue;
            if (!ratingCells.Long(user, "userId", out var u) || !ratingCells.Long(movie, "movieId", out var m)) continue;
            if (!ratingCells.Double(rating, "rating", out var r) || !ratingCells.Long(timestamp, "timestamp", out var t)) continue;
            if (!movieCategory.TryGetValue(m, out var c))
            {
                ratingCells.Bad(BadLineReason.UnknownItem, $"movieId {m} is not in {moviesPath}");
                continue;
            }
            spill.Add(new EventRecord(u, m, c, t, ratings.LineNumber, r >= threshold ? 1 : 0));
            items.Add(m);
            categories.Add(c);
        }
        run.RowsRead(ratingsPath, rows);

        var builder = new EventSampleBuilder(run);
        foreach (var chunk in spill.Drain()) builder.Build(chunk);
        genres.Save(options.OutDir);
        run.Report.IdMapping = "user_id = userId, item_id = movieId; category_id = first genre, hashed (first 64 bits of MurmurHash3_x64_128 of the UTF-8 name), names in vocab/categories.tsv";
        run.Report.Extra["rating_threshold"] = threshold;
        return run.Complete(builder.Users, items.Count, categories.Count, builder.TrainUsers, builder.TestUsers, builder.Truncated, spill.Loaded);
    }
}
