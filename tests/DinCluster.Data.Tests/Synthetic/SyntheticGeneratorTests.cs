using DinCluster.Core.Batches;
using Xunit.Abstractions;

namespace DinCluster.Data.Tests.Synthetic;

public sealed class SyntheticGeneratorTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    private static SyntheticSettings Small(ulong seed) => new()
    {
        Users = 300,
        Items = 1000,
        Categories = 30,
        Samples = 6000,
        Seed = seed,
        HistoryMax = 20,
        TestFraction = 0.2,
        RowGroupSize = 1000,
        RowsPerFile = 2500,
    };

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Generate_writes_identical_bytes_when_run_twice_with_the_same_seed()
    {
        var settings = Small(seed: 7);
        output.WriteLine($"seed {settings.Seed}");
        var a = Path.Combine(_dir.Path, "a");
        var b = Path.Combine(_dir.Path, "b");

        SyntheticGenerator.Generate(a, settings);
        SyntheticGenerator.Generate(b, settings);

        var files = Directory.GetFiles(a, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a, f)).Order().ToList();
        Assert.Equal(["dataset.json", "test/part-00000.parquet", "train/part-00000.parquet", "train/part-00001.parquet"], files);
        foreach (var f in files) Assert.Equal(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(b, f)));
    }

    [Fact]
    public void Generate_writes_other_samples_when_the_seed_differs()
    {
        var a = SyntheticGenerator.Generate(Path.Combine(_dir.Path, "a"), Small(seed: 7));
        var b = SyntheticGenerator.Generate(Path.Combine(_dir.Path, "b"), Small(seed: 8));
        output.WriteLine("seeds 7 and 8");

        Assert.NotEqual(
            File.ReadAllBytes(Path.Combine(_dir.Path, "a", a.Train.Files[0])),
            File.ReadAllBytes(Path.Combine(_dir.Path, "b", b.Train.Files[0])));
    }

    [Fact]
    public void DatasetJson_holds_a_Bayes_auc_above_half_computed_from_the_test_rows()
    {
        var settings = Small(seed: 9);
        output.WriteLine($"seed {settings.Seed}");
        SyntheticGenerator.Generate(_dir.Path, settings, new TestLog(output));
        var dataset = SyntheticDataset.Load(_dir.Path);

        var test = ReadAll(dataset.Test.Files, settings);
        var p = test.Dense[0];   // the p_true column
        var auc = PairwiseAuc(p, test.Labels);

        output.WriteLine($"dataset.json Bayes AUC {dataset.BayesTestAuc:F6}, from the test rows {auc:F6}");
        Assert.True(dataset.BayesTestAuc > 0.6, $"Bayes AUC {dataset.BayesTestAuc} leaves little to learn");
        Assert.Equal(auc, dataset.BayesTestAuc, 1e-9);
        Assert.Equal(settings.TestSamples, test.Count);
        Assert.Equal(dataset.Test.Positives, (long)test.Labels.Sum());
        var logLoss = -p.Zip(test.Labels, (q, y) => y == 1 ? Math.Log(q) : Math.Log(1 - q)).Average();
        Assert.Equal(logLoss, dataset.BayesTestLogLoss, 1e-9);
    }

    [Fact]
    public void Generate_writes_split_counts_and_file_sizes_that_match_the_settings()
    {
        var settings = Small(seed: 10);
        output.WriteLine($"seed {settings.Seed}");
        var dataset = SyntheticGenerator.Generate(_dir.Path, settings);

        var reader = new BehaviourLogReader(SyntheticGenerator.FileSchema(settings));
        var trainRows = dataset.Train.Files.Select(f => reader.Inspect(Path.Combine(_dir.Path, f))!).ToList();
        Assert.Equal([2500L, 2300], trainRows.Select(i => i.Rows));
        Assert.All(trainRows, i => Assert.All(i.RowGroupRows, r => Assert.True(r <= settings.RowGroupSize)));
        Assert.Equal(settings.TrainSamples, dataset.Train.Samples);
        Assert.Equal(settings.TestSamples, dataset.Test.Samples);
        Assert.InRange(dataset.Train.PositiveRate, 0.05, 0.95);
    }

    [Fact]
    public void Generate_appends_each_click_to_the_users_later_history_when_read_in_timeline_order()
    {
        var settings = Small(seed: 11);
        output.WriteLine($"seed {settings.Seed}");
        var dataset = SyntheticGenerator.Generate(_dir.Path, settings);
        var all = ReadAll([.. dataset.Train.Files, .. dataset.Test.Files], settings);

        var lastClick = new Dictionary<long, long>();   // user -> item clicked in the user's previous sample
        var categoryOf = new Dictionary<long, long>();
        var offset = 0;
        for (var i = 0; i < all.Count; i++)
        {
            var (user, item, category) = (all.Sparse[0][i], all.Sparse[1][i], all.Sparse[2][i]);
            var length = all.Lengths[0][i];
            var items = all.Values[0].AsSpan(offset, length);
            var categories = all.Values[1].AsSpan(offset, length);
            offset += length;

            Assert.True(length <= settings.HistoryMax);
            Assert.Equal(categoryOf.GetValueOrDefault(item, category), category);   // an item keeps its category
            categoryOf[item] = category;
            for (var t = 0; t < length; t++)
            {
                Assert.Equal(categoryOf.GetValueOrDefault(items[t], categories[t]), categories[t]);
                categoryOf[items[t]] = categories[t];
            }
            // oldest first: the previous click is the newest entry, or the one before an organic behaviour
            if (lastClick.Remove(user, out var clicked))
                Assert.True(items[^1] == clicked || (length >= 2 && items[^2] == clicked), $"sample {i}: click on {clicked} is not at the end of the history");
            if (all.Labels[i] == 1) lastClick[user] = item;
        }
    }

    [Fact]
    public void Validate_names_the_setting_and_its_range_when_a_setting_is_out_of_range()
    {
        var e = Assert.Throws<ArgumentException>(() => (Small(1) with { Items = 10 }).Validate());

        Assert.Equal("Items is set to 10, must be >= Categories (30), so every category has an item", e.Message);
    }

    [Fact]
    public void Defaults_make_about_200k_train_and_20k_test_samples()
    {
        var defaults = new SyntheticSettings();

        Assert.Equal(198_000, defaults.TrainSamples);
        Assert.Equal(22_000, defaults.TestSamples);
    }

    private Batch ReadAll(IEnumerable<string> files, SyntheticSettings settings)
    {
        var reader = new BehaviourLogReader(SyntheticGenerator.FileSchema(settings));
        return Batch.Concat(files.SelectMany(f => reader.ReadFile(Path.Combine(_dir.Path, f), 4096)).ToList(), 0);
    }

    /// <summary>AUC as P(score of a positive > score of a negative) + 0.5 P(tie), pair by pair: slow but obviously right.</summary>
    private static double PairwiseAuc(float[] scores, float[] labels)
    {
        var positives = scores.Where((_, i) => labels[i] == 1).ToArray();
        var negatives = scores.Where((_, i) => labels[i] == 0).ToArray();
        double wins = 0;
        foreach (var p in positives)
            foreach (var n in negatives)
                wins += p > n ? 1 : p == n ? 0.5 : 0;
        return wins / ((double)positives.Length * negatives.Length);
    }

    private sealed class TestLog(ITestOutputHelper output) : StringWriter
    {
        public override void WriteLine(string? value) => output.WriteLine(value ?? "");
    }
}
