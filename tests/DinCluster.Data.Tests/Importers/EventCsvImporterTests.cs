using System.Globalization;
using System.Text;
using DinCluster.Data.Importers;
using Xunit.Abstractions;

namespace DinCluster.Data.Tests.Importers;

public sealed class EventCsvImporterTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Out => _dir.File("out");

    [Fact]
    public void EventCsv_builds_histories_from_earlier_positives_in_time_then_item_order_when_timestamps_tie()
    {
        var input = Write("events.csv",
            "user_id,item_id,category_id,timestamp,label",
            "1,30,3,100,1",
            "1,20,2,100,1",   // same second as item 30: item 20 sorts first
            "1,40,4,50,0",    // earliest, a negative: never in a history
            "1,50,5,200,1",
            "2,60,6,10,1",
            "2,70,7,20,0");

        var report = EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out), new StringWriter());

        Assert.Equal(
        [
            "u=1 i=40 c=4 h=[] hc=[] y=0 t=50",
            "u=1 i=20 c=2 h=[] hc=[] y=1 t=100",
            "u=1 i=30 c=3 h=[20] hc=[2] y=1 t=100",
            "u=2 i=60 c=6 h=[] hc=[] y=1 t=10",
        ], ImportedData.Lines(Out, "train"));
        Assert.Equal(
        [
            "u=1 i=50 c=5 h=[20 30] hc=[2 3] y=1 t=200",
            "u=2 i=70 c=7 h=[60] hc=[6] y=0 t=20",
        ], ImportedData.Lines(Out, "test"));
        Assert.Equal((6L, 2L, 6L, 6L), (report.RowsRead, report.Users, report.Items, report.Categories));
        Assert.Equal((4L, 3L, 2L), (report.Train.Samples, report.Train.Positives, report.Train.Users));
        Assert.Equal((2L, 1L, 2L), (report.Test.Samples, report.Test.Positives, report.Test.Users));
        Assert.Equal("last-per-user:1", report.Split);
        Assert.True(report.RowsPerSecond > 0);
        Assert.Equal(report.RowsRead, ImportReport.Load(Out).RowsRead);
    }

    [Fact]
    public void EventCsv_labels_ratings_at_or_above_the_threshold_positive_when_a_rating_column_is_named()
    {
        var input = Write("ratings.tsv",
            "uid\tmid\tgenre\twhen\tstars",
            "5\t1\t9\t1\t4.5",
            "5\t2\t9\t2\t3.5",
            "5\t3\t8\t3\t4",
            "5\t4\t8\t4\t1");
        var source = new EventCsvSource
        {
            Path = input, UserColumn = "uid", ItemColumn = "mid", CategoryColumn = "genre", TimestampColumn = "when",
            RatingColumn = "stars", Threshold = 4, Delimiter = '\t',
        };

        EventCsvImporter.Run(source, ImportedData.Options(Out, SplitSpec.Parse("time:4")), new StringWriter());

        Assert.Equal(
        [
            "u=5 i=1 c=9 h=[] hc=[] y=1 t=1",
            "u=5 i=2 c=9 h=[1] hc=[9] y=0 t=2",
            "u=5 i=3 c=8 h=[1] hc=[9] y=1 t=3",
        ], ImportedData.Lines(Out, "train"));
        Assert.Equal(["u=5 i=4 c=8 h=[1 3] hc=[9 8] y=0 t=4"], ImportedData.Lines(Out, "test"));
    }

    [Fact]
    public void EventCsv_keeps_the_most_recent_positives_when_a_history_exceeds_max_history()
    {
        var lines = new List<string> { "user_id,item_id,category_id,timestamp,label" };
        for (var t = 0; t < 6; t++) lines.Add($"1,{100 + t},{t},{t},1");
        var input = Write("events.csv", [.. lines]);

        var report = EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out) with { MaxHistory = 3 }, new StringWriter());

        Assert.Equal("u=1 i=105 c=5 h=[102 103 104] hc=[2 3 4] y=1 t=5", Assert.Single(ImportedData.Lines(Out, "test")));
        Assert.Equal("u=1 i=104 c=4 h=[101 102 103] hc=[1 2 3] y=1 t=4", ImportedData.Lines(Out, "train")[^1]);
        Assert.Equal(2, report.TruncatedHistories);
    }

    [Theory]
    [InlineData("last-per-user:2")]
    [InlineData("users:0.3")]
    [InlineData("time:1500")]
    public void EventCsv_matches_the_in_memory_protocol_when_a_random_log_is_split(string split)
    {
        const int seed = 41;
        output.WriteLine($"events seed {seed}");
        var events = RandomEvents(seed, users: 300, events: 6000);
        var input = WriteEvents("events.csv", events);
        var spec = SplitSpec.Parse(split);

        EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out, spec) with { Seed = 5, MaxHistory = 7 }, new StringWriter());

        var (train, test) = EventOracle.Samples(events, spec, seed: 5, maxHistory: 7);
        Assert.Equal(test, ImportedData.Lines(Out, "test"));
        Assert.Equal(train, ImportedData.Lines(Out, "train"));
        if (spec is SplitSpec.Users)
        {
            var testUsers = ImportedData.Read(Out, "test").Select(r => r.User).ToHashSet();
            Assert.DoesNotContain(ImportedData.Read(Out, "train"), r => testUsers.Contains(r.User));
            Assert.InRange(testUsers.Count, 60, 120);   // 30% of 300 users, +- 3.5 sigma
        }
    }

    [Fact]
    public void EventCsv_writes_the_same_samples_when_memory_forces_many_partitions_and_resplits()
    {
        const int seed = 42;
        output.WriteLine($"events seed {seed}");
        var events = RandomEvents(seed, users: 500, events: 20_000);
        var input = WriteEvents("events.csv", events);
        var one = EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(_dir.File("one")) with { Shuffle = true, Seed = 3 }, new StringWriter());
        // 64 KiB partitions: ~1,400 events each at 48 bytes; the estimate sends the 20,000 events to a few
        // files, most of which are then re-split
        var many = EventCsvImporter.Run(new EventCsvSource { Path = input },
            ImportedData.Options(_dir.File("many")) with { Shuffle = true, Seed = 3, MemoryBudgetBytes = 256 << 10 }, new StringWriter());

        output.WriteLine($"partitions: {one.Partitions} vs {many.Partitions}");
        Assert.Equal(1, one.Partitions);
        Assert.True(many.Partitions > 10, $"{many.Partitions} partitions");
        foreach (var split in new[] { "train", "test" })
            Assert.Equal(ImportedData.Lines(_dir.File("one"), split).Order(), ImportedData.Lines(_dir.File("many"), split).Order());
        Assert.Equal((one.Users, one.Train.Users, one.Test.Users), (many.Users, many.Train.Users, many.Test.Users));
    }

    [Fact]
    public void EventCsv_shuffles_train_rows_reproducibly_when_shuffle_is_on()
    {
        var events = RandomEvents(43, users: 50, events: 2000);
        output.WriteLine("events seed 43");
        var input = WriteEvents("events.csv", events);
        EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(_dir.File("a")) with { Shuffle = true, Seed = 9 }, new StringWriter());
        EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(_dir.File("b")) with { Shuffle = true, Seed = 9 }, new StringWriter());
        EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(_dir.File("sorted")), new StringWriter());

        var a = ImportedData.Lines(_dir.File("a"), "train");
        Assert.Equal(a, ImportedData.Lines(_dir.File("b"), "train"));
        var sorted = ImportedData.Lines(_dir.File("sorted"), "train");
        Assert.NotEqual(sorted, a);
        Assert.Equal(sorted.Order(), a.Order());
        // consecutive rows mostly belong to different users (the sorted file has runs of ~40 per user)
        var rows = ImportedData.Read(_dir.File("a"), "train");
        Assert.True(rows.Zip(rows.Skip(1)).Count(p => p.First.User == p.Second.User) < rows.Count / 10);
    }

    [Fact]
    public void EventCsv_hashes_string_ids_when_asked_to()
    {
        var input = Write("events.csv", "user_id,item_id,category_id,timestamp,label", "alice,book-1,Books,1,1", "alice,pen-2,Office,2,1");

        var report = EventCsvImporter.Run(new EventCsvSource { Path = input, HashIds = true }, ImportedData.Options(Out), new StringWriter());

        var row = Assert.Single(ImportedData.Read(Out, "test"));
        Assert.Equal((StringIds.Of("alice"), StringIds.Of("pen-2"), StringIds.Of("Office")), (row.User, row.Item, row.Category));
        Assert.Equal([StringIds.Of("book-1")], row.HistItems);
        Assert.Contains("MurmurHash3", report.IdMapping);
    }

    [Theory]
    [InlineData("1,2,3,abc,1", "line 3: timestamp is 'abc', not a whole number", "not_a_number")]
    [InlineData("1,2,3,4", "line 3: has 4 cells, the header has 5", "wrong_column_count")]
    [InlineData("1,2,3,4,5,6", "line 3: has 6 cells, the header has 5", "wrong_column_count")]
    [InlineData("1,,3,4,1", "line 3: item_id is empty, must be a whole number", "not_a_number")]
    [InlineData("1,2,3,4,2", "line 3: label is 2, must be 0 or 1", "invalid_label")]
    [InlineData("1,\"2,3,4,1", "line 3: cell 2 opens a quote that is not closed on this line", "malformed")]
    public void EventCsv_names_file_and_line_when_fail_and_counts_the_reason_when_skip(string bad, string message, string reason)
    {
        var input = Write("events.csv", "user_id,item_id,category_id,timestamp,label", "1,10,1,1,1", bad, "1,11,1,2,1", "", "1,12,1,3,0");

        var e = Assert.Throws<BadLineException>(() => EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out), new StringWriter()));
        output.WriteLine(e.Message);
        Assert.Equal($"{input}: {message}", e.Message);
        Assert.Equal((input, 3L), (e.File, e.Line));
        Assert.False(Directory.Exists(Path.Combine(Out, "train")) && Directory.GetFiles(Path.Combine(Out, "train")).Length > 0, "a failed import leaves no part files");

        var report = EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out, policy: BadInputPolicy.Skip), new StringWriter());
        Assert.Equal(new Dictionary<string, long> { [reason] = 1 }, report.SkippedByReason);
        Assert.Equal(1, report.SkippedLines);
        Assert.Equal($"{input}: {message}", Assert.Single(report.SkippedExamples));
        Assert.Equal(4, report.RowsRead);   // the blank line is not a row
        Assert.Equal(3, report.Train.Samples + report.Test.Samples);
        Assert.Equal(new Dictionary<string, long> { [reason] = 1 }, ImportReport.Load(Out).SkippedByReason);
    }

    [Theory]
    [InlineData(BadInputPolicy.Fail)]
    [InlineData(BadInputPolicy.Skip)]
    public void EventCsv_refuses_the_file_under_either_policy_when_a_header_column_is_missing(BadInputPolicy policy)
    {
        var input = Write("events.csv", "user_id,item_id,timestamp,label", "1,10,1,1");

        var e = Assert.Throws<BadLineException>(() => EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out, policy: policy), new StringWriter()));

        Assert.Equal($"{input}: line 1: header has no column 'category_id' (the item's category id; --category-column); the header is: user_id,item_id,timestamp,label", e.Message);
        Assert.Null(e.Reason);
    }

    [Fact]
    public void Import_refuses_to_mix_with_an_earlier_import_when_overwrite_is_off()
    {
        var input = Write("events.csv", "user_id,item_id,category_id,timestamp,label", "1,10,1,1,1", "1,11,1,2,1");
        EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out), new StringWriter());

        var e = Assert.Throws<ArgumentException>(() => EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out), new StringWriter()));
        Assert.Contains("already holds 1 Parquet file(s)", e.Message);

        EventCsvImporter.Run(new EventCsvSource { Path = input }, ImportedData.Options(Out) with { Overwrite = true }, new StringWriter());
        Assert.Single(ImportedData.Lines(Out, "train"));
        Assert.False(Directory.Exists(Path.Combine(Out, ".import-tmp")));
    }

    private string Write(string name, params string[] lines)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return path;
    }

    private string WriteEvents(string name, List<EventOracle.Event> events)
    {
        var sb = new StringBuilder("user_id,item_id,category_id,timestamp,label\n");
        foreach (var e in events) sb.Append(CultureInfo.InvariantCulture, $"{e.User},{e.Item},{e.Category},{e.Timestamp},{e.Label}\n");
        var path = _dir.File(name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>Random events with many timestamp ties and repeated items; lines numbered from 2 (after the header).</summary>
    private static List<EventOracle.Event> RandomEvents(int seed, int users, int events)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, events).Select(k =>
        {
            var item = rng.Next(200) - 50;   // negative ids too
            return new EventOracle.Event(rng.Next(users) * 7919L, item, item % 13, rng.Next(3000), rng.Next(2), k + 2);
        }).ToList();
    }
}
