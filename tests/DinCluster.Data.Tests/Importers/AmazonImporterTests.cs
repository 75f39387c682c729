using DinCluster.Data.Importers;

namespace DinCluster.Data.Tests.Importers;

/// <summary>
/// The hand-written fixture (Fixtures/amazon): reviews in the 5-core JSON lines, metadata in the 2014
/// Python-literal lines. Items B..1-B..4 are reviewed (the negatives' pool), B..5 only has metadata.
/// <code>
///   A (Ann): 1 @100, 2 @200, 3 @300   never reviewed 4 -> every negative is 4
///   B (Bob): 4 @50, 1 @60, 2 @60      (tie at 60: item 1's id is smaller) never reviewed 3
///   C (Cy):  3 @400, 4 @500           two candidates for its negative: 1 or 2
///   D (Di):  1 @600                   one review: history only, no sample
///   E (Ed):  1, 2, 3, 4               reviewed the whole pool: positives without negatives
/// </code>
/// </summary>
public sealed class AmazonImporterTests : IDisposable
{
    private static readonly long I1 = StringIds.Of("B000000001"), I2 = StringIds.Of("B000000002"), I3 = StringIds.Of("B000000003"), I4 = StringIds.Of("B000000004");
    private static readonly long Cables = StringIds.Of("Cables"), Bags = StringIds.Of("Bags"), MensGear = StringIds.Of("Men's Gear"), CafeAudio = StringIds.Of("Café Audio");
    private static readonly long A = StringIds.Of("A1USERAAAA"), B = StringIds.Of("A2USERBBBB"), C = StringIds.Of("A3USERCCCC"), E = StringIds.Of("A5USEREEEE");

    private readonly TempDir _dir = new();
    private readonly string _fixture = ImportedData.Fixture("amazon");

    public void Dispose() => _dir.Dispose();

    private string Out => _dir.File("out");

    [Fact]
    public void Amazon_builds_positive_and_negative_pairs_with_the_last_pair_in_test_when_importing_the_fixture()
    {
        var report = AmazonImporter.Run(Path.Combine(_fixture, "reviews.json"), Path.Combine(_fixture, "meta.json"), ImportedData.Options(Out), new StringWriter());

        static string Row(long user, long item, long category, long[] hist, long[] histCategories, int label, long t) =>
            new ImportedRow(user, item, category, hist, histCategories, label, t).ToString();
        var users = new[] { A, B, E }.Order().ToList();
        var expectedTrain = new Dictionary<long, string[]>
        {
            [A] = [Row(A, I2, Bags, [I1], [Cables], 1, 1300000200), Row(A, I4, CafeAudio, [I1], [Cables], 0, 1300000200)],
            [B] = [Row(B, I1, Cables, [I4], [CafeAudio], 1, 1300000060), Row(B, I3, MensGear, [I4], [CafeAudio], 0, 1300000060)],
            [E] = [Row(E, I2, Bags, [I1], [Cables], 1, 1300000800), Row(E, I3, MensGear, [I1, I2], [Cables, Bags], 1, 1300000900)],
        };
        Assert.Equal(users.SelectMany(u => expectedTrain[u]), ImportedData.Lines(Out, "train"));

        var test = ImportedData.Read(Out, "test");
        var expectedTest = new Dictionary<long, string[]>
        {
            [A] = [Row(A, I3, MensGear, [I1, I2], [Cables, Bags], 1, 1300000300), Row(A, I4, CafeAudio, [I1, I2], [Cables, Bags], 0, 1300000300)],
            [B] = [Row(B, I2, Bags, [I4, I1], [CafeAudio, Cables], 1, 1300000060), Row(B, I3, MensGear, [I4, I1], [CafeAudio, Cables], 0, 1300000060)],
            [C] = [Row(C, I4, CafeAudio, [I3], [MensGear], 1, 1300000500)],
            [E] = [Row(E, I4, CafeAudio, [I1, I2, I3], [Cables, Bags, MensGear], 1, 1300001000)],
        };
        var cNegative = test.Single(r => r.User == C && r.Label == 0);
        Assert.Contains((cNegative.Item, cNegative.Category), new[] { (I1, Cables), (I2, Bags) });   // C never reviewed 1 or 2
        // test rows in (user, time) order, each positive followed by its negative
        var expected = new[] { A, B, C, E }.Order().SelectMany(u => u == C
            ? [expectedTest[C][0], Row(C, cNegative.Item, cNegative.Category, [I3], [MensGear], 0, 1300000500)]
            : expectedTest[u]);
        Assert.Equal(expected, test.Select(r => r.ToString()));

        Assert.Equal((13L + 5L, 5L, 4L, 4L), (report.RowsRead, report.Users, report.Items, report.Categories));
        Assert.Equal((6L, 3L, 7L, 4L), (report.Train.Samples, report.Train.Users, report.Test.Samples, report.Test.Users));
        Assert.Equal(5, report.Extra["negatives_sampled"]);   // A 2, B 2, C 1; E none
        Assert.Equal(1, report.Extra["users_without_negatives"]);
        Assert.Equal(5, report.Extra["metadata_items"]);
        Assert.Contains($"{CafeAudio}\tCafé Audio", File.ReadAllLines(Path.Combine(Out, "vocab", "categories.tsv")));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(Out, "vocab", "items.tsv")).Length);   // header + the 4 reviewed items
    }

    [Fact]
    public void Amazon_reads_the_same_samples_when_the_metadata_is_strict_json()
    {
        var meta = _dir.File("meta-strict.json");
        File.WriteAllLines(meta,
        [
            """{"asin": "B000000001", "title": "USB Cable 2m", "categories": [["Electronics", "Computers & Accessories", "Cables"]]}""",
            """{"asin": "B000000002", "related": {"also_viewed": ["B000000001"]}, "salesRank": null, "categories": [["Electronics", "Camera & Photo"], ["Electronics", "Accessories", "Bags"]]}""",
            """{"asin": "B000000003", "categories": [["Electronics", "Men's Gear"]]}""",
            """{"asin": "B000000004", "categories": [["Electronics", "Caf\u00e9 Audio"]]}""",
            """{"asin": "B000000005", "category": ["Electronics", "Cables"]}""",
        ]);
        var reviews = Path.Combine(_fixture, "reviews.json");
        AmazonImporter.Run(reviews, Path.Combine(_fixture, "meta.json"), ImportedData.Options(_dir.File("literal")), new StringWriter());
        AmazonImporter.Run(reviews, meta, ImportedData.Options(Out), new StringWriter());

        foreach (var split in new[] { "train", "test" })
            Assert.Equal(ImportedData.Lines(_dir.File("literal"), split), ImportedData.Lines(Out, split));
    }

    [Fact]
    public void Amazon_draws_the_same_negatives_when_the_seed_is_the_same_whatever_the_partitioning()
    {
        var reviews = _dir.File("reviews.json");
        var meta = _dir.File("meta.json");
        var rng = new Random(44);   // seed 44: 400 users, 300 items, 6,000 reviews
        using (var m = new StreamWriter(meta))
            for (var i = 0; i < 300; i++) m.WriteLine($"{{'asin': 'I{i}', 'categories': [['Root', 'C{i % 17}']]}}");
        using (var r = new StreamWriter(reviews))
            for (var k = 0; k < 6000; k++)
                r.WriteLine($"{{\"reviewerID\": \"U{rng.Next(400)}\", \"asin\": \"I{rng.Next(300)}\", \"unixReviewTime\": {rng.Next(100_000)}}}");

        var one = AmazonImporter.Run(reviews, meta, ImportedData.Options(_dir.File("one")) with { Seed = 11 }, new StringWriter());
        var many = AmazonImporter.Run(reviews, meta, ImportedData.Options(_dir.File("many")) with { Seed = 11, MemoryBudgetBytes = 256 << 10 }, new StringWriter());
        AmazonImporter.Run(reviews, meta, ImportedData.Options(_dir.File("other")) with { Seed = 12 }, new StringWriter());

        Assert.True(many.Partitions > one.Partitions);
        Assert.Equal(ImportedData.Lines(_dir.File("one"), "train").Order(), ImportedData.Lines(_dir.File("many"), "train").Order());
        Assert.Equal(ImportedData.Lines(_dir.File("one"), "test").Order(), ImportedData.Lines(_dir.File("many"), "test").Order());
        Assert.NotEqual(ImportedData.Lines(_dir.File("one"), "train"), ImportedData.Lines(_dir.File("other"), "train"));
        // every negative is an item the user never reviewed, with that item's category
        var reviewed = File.ReadLines(reviews).Select(l => (User: StringIds.Of(l.Split('"')[3]), Item: StringIds.Of(l.Split('"')[7]))).ToHashSet();
        var rows = ImportedData.Read(_dir.File("one"), "train").Concat(ImportedData.Read(_dir.File("one"), "test")).ToList();
        Assert.Equal(rows.Count(r => r.Label == 1), rows.Count(r => r.Label == 0));
        Assert.All(rows.Where(r => r.Label == 0), r => Assert.DoesNotContain((r.User, r.Item), reviewed));
        var categoryOf = Enumerable.Range(0, 300).ToDictionary(i => StringIds.Of($"I{i}"), i => StringIds.Of($"C{i % 17}"));
        Assert.All(rows, r => Assert.Equal(categoryOf[r.Item], r.Category));
    }

    [Fact]
    public void Amazon_names_file_and_line_when_a_review_is_bad_and_counts_reasons_when_skip()
    {
        var reviews = _dir.File("reviews.json");
        File.WriteAllLines(reviews,
        [
            """{"reviewerID": "U1", "asin": "B000000001", "unixReviewTime": 1}""",
            """{"reviewerID": "U1", "asin": "B000000009", "unixReviewTime": 2}""",
            """{"reviewerID": "U1", "asin": "B000000002", "unixReviewTime": "soon"}""",
            """{"reviewerID": "U1", "asin": "B000000003", "unixReviewTime": 4""",
            """{"reviewerID": "U1", "asin": "B000000004", "unixReviewTime": 5}""",
        ]);
        var meta = Path.Combine(_fixture, "meta.json");

        var e = Assert.Throws<BadLineException>(() => AmazonImporter.Run(reviews, meta, ImportedData.Options(Out), new StringWriter()));
        Assert.Equal($"{reviews}: line 2: item 'B000000009' is not in {meta}", e.Message);

        var report = AmazonImporter.Run(reviews, meta, ImportedData.Options(Out, policy: BadInputPolicy.Skip), new StringWriter());
        Assert.Equal(new Dictionary<string, long> { ["unknown_item"] = 1, ["missing_field"] = 1, ["malformed"] = 1 }, report.SkippedByReason);
        // U1 keeps items 1 and 4, the whole pool: one positive, no negative, in test
        Assert.Equal((1L, 0L, 1.0), (report.Test.Samples, report.Train.Samples, report.Extra["users_without_negatives"]));
    }
}
