namespace DinCluster.Data.Importers;

/// <summary>
/// `import amazon`: the DIN paper's Amazon protocol (the original build_dataset.py) from the review JSON
/// lines (reviewerID, asin, unixReviewTime; the 5-core files) and the metadata lines (asin, categories),
/// strict JSON or Python dict literals as the 2014 release ships them:
/// <code>
///   item category       = the LAST entry of its category path (categories[-1][-1])
///   per user, by time   : r0 r1 r2 r3 ...  every review is a positive
///   sample for r_i, i&gt;=1 : history r0..r(i-1) (most recent MaxHistory), target r_i, label 1
///                         + the same history with a random item the user never reviewed, label 0
///   split               : each user's last pair to test, the rest to train (--split last-per-user:1)
/// </code>
/// Negatives are drawn from every reviewed item that has metadata. String ids are hashed (<see cref="StringIds"/>);
/// vocab/items.tsv and vocab/categories.tsv map them back.
/// </summary>
public static class AmazonImporter
{
    private const int MinReviewLineBytes = 64;

    private static readonly string[] MetaKeys = ["asin", "categories", "category"];
    private static readonly string[] ReviewKeys = ["reviewerID", "asin", "unixReviewTime"];

    public static ImportReport Run(string reviewsPath, string metaPath, ImportOptions options, TextWriter log)
    {
        if (!File.Exists(reviewsPath)) throw new FileNotFoundException($"input file {reviewsPath} does not exist", reviewsPath);
        if (!File.Exists(metaPath)) throw new FileNotFoundException($"input file {metaPath} does not exist", metaPath);
        using var run = new ImportRun("amazon", options, new SplitSpec.LastPerUser(1), 50, log);
        log.WriteLine($"import amazon: {reviewsPath} + {metaPath} -> {options.OutDir}");
        var parser = new LiteralLine();
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);

        // 1. metadata: asin -> category (last of the last path); every item of the file, held in memory
        var categoryNames = new Vocabulary("categories");
        var categoryOf = new Dictionary<long, long>();
        using (var meta = new LineReader(metaPath))
        {
            long rows = 0;
            while (meta.Next() is { } line)
            {
                rows++;
                if (!parser.TryRead(line, MetaKeys, values, out var error))
                {
                    run.Bad.Report(metaPath, meta.LineNumber, BadLineReason.Malformed, error);
                    continue;
                }
                if (values.GetValueOrDefault("asin") is not string asin || asin.Length == 0)
                {
                    run.Bad.Report(metaPath, meta.LineNumber, BadLineReason.MissingField, "no 'asin' string");
                    continue;
                }
                if (LastCategory(values) is not { } category)
                {
                    run.Bad.Report(metaPath, meta.LineNumber, BadLineReason.MissingField,
                        $"item '{asin}' has no category ('categories' must be a list of non-empty lists of strings)");
                    continue;
                }
                if (!categoryOf.TryAdd(StringIds.Of(asin), categoryNames.Add(category)))
                    run.Bad.Report(metaPath, meta.LineNumber, BadLineReason.DuplicateItem, $"item '{asin}' is listed again (the first line is kept)");
            }
            run.RowsRead(metaPath, rows);
        }

        // 2. reviews -> per-user partitions; the reviewed items are the negatives' pool
        var items = new Vocabulary("items");
        using var spill = run.CreateSpill<EventRecord>(InputFiles.Size(reviewsPath) / MinReviewLineBytes * 48);
        using (var reviews = new LineReader(reviewsPath))
        {
            long rows = 0;
            while (reviews.Next() is { } line)
            {
                rows++;
                if (!parser.TryRead(line, ReviewKeys, values, out var error))
                {
                    run.Bad.Report(reviewsPath, reviews.LineNumber, BadLineReason.Malformed, error);
                    continue;
                }
                if (values.GetValueOrDefault("reviewerID") is not string reviewer || reviewer.Length == 0
                    || values.GetValueOrDefault("asin") is not string asin || asin.Length == 0
                    || values.GetValueOrDefault("unixReviewTime") is not long time)
                {
                    run.Bad.Report(reviewsPath, reviews.LineNumber, BadLineReason.MissingField,
                        "needs 'reviewerID' and 'asin' strings and an integer 'unixReviewTime'");
                    continue;
                }
                var item = StringIds.Of(asin);
                if (!categoryOf.TryGetValue(item, out var category))
                {
                    run.Bad.Report(reviewsPath, reviews.LineNumber, BadLineReason.UnknownItem, $"item '{asin}' is not in {metaPath}");
                    continue;
                }
                items.Add(asin);
                spill.Add(new EventRecord(StringIds.Of(reviewer), item, category, time, reviews.LineNumber, 1));
            }
            run.RowsRead(reviewsPath, rows);
        }

        // 3. samples, with one sampled negative per positive
        var pool = categoryOf.Keys.Where(items.Contains).Order().ToArray();
        var poolCategories = pool.Select(i => categoryOf[i]).Distinct().Count();
        var sampler = new NegativeSampler(pool, categoryOf, options.Seed);
        var builder = new EventSampleBuilder(run) { FirstEventIsHistoryOnly = true, Negatives = sampler };
        foreach (var chunk in spill.Drain()) builder.Build(chunk);

        items.Save(options.OutDir);
        categoryNames.Save(options.OutDir);
        run.Report.IdMapping = "reviewerID, asin and category names are hashed: id = first 64 bits of MurmurHash3_x64_128 of the UTF-8 text (mmh3.hash64(s)[0]); vocab/items.tsv and vocab/categories.tsv map ids back";
        run.Report.Extra["negatives_sampled"] = sampler.Sampled;
        run.Report.Extra["users_without_negatives"] = sampler.UsersWithoutNegatives;
        run.Report.Extra["metadata_items"] = categoryOf.Count;
        return run.Complete(builder.Users, pool.Length, poolCategories, builder.TrainUsers, builder.TestUsers, builder.Truncated, spill.Loaded);
    }

    /// <summary>categories[-1][-1] (the 2014 files: a list of category paths), or category[-1] (the 2018 files: one flat path).</summary>
    internal static string? LastCategory(Dictionary<string, object?> values)
    {
        if (values.GetValueOrDefault("categories") is List<object?> { Count: > 0 } paths)
            return paths[^1] is List<object?> { Count: > 0 } path && path[^1] is string { Length: > 0 } last ? last : null;
        if (values.GetValueOrDefault("category") is List<object?> { Count: > 0 } flat)
            return flat[^1] is string { Length: > 0 } last ? last : null;
        return null;
    }
}
