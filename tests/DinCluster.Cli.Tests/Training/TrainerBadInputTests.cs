using DinCluster.Cli.Tests.Support;
using DinCluster.Cluster.Local;
using DinCluster.Cluster.Runs;
using DinCluster.Core.Features;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Training;

/// <summary>
/// Bad input end to end through the reference trainer: DIR/train holds a good file (300 rows) and a bad one.
/// Fail: the run stops, the error names file, row group and row (as far as known), summary.json says failed.
/// Skip: summary.json's bad_input counts exactly what was injected and every other row is trained on.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class TrainerBadInputTests(ITestOutputHelper output) : IDisposable
{
    private const int GoodRows = 300;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Data => _dir.File("data");

    [Fact]
    public void Trainer_names_row_group_and_row_when_a_label_is_not_0_or_1()
    {
        var bad = Samples(200, seed: 61);
        bad[130] = bad[130] with { Label = 7 };
        bad[131] = bad[131] with { Label = -1 };
        var path = TrainData.Write(Data, "train", "part-1.parquet", TrainData.Schema(), bad);

        AssertRowsRefused(path, badRows: 2, "invalid_label", $"{path}: row group 1, row 30: label is 7, must be 0 or 1");
    }

    [Fact]
    public void Trainer_names_row_group_and_row_when_paired_histories_differ_in_length()
    {
        var bad = Samples(200, seed: 62);
        bad[4] = bad[4] with { HistItems = [1, 2, 3], HistCategories = [1, 2] };
        var path = TrainData.Write(Data, "train", "part-1.parquet", TrainData.Schema(), bad);

        AssertRowsRefused(path, badRows: 1, "history_length_mismatch",
            $"{path}: row group 0, row 4: hist_item_id has 3 ids, hist_category_id has 2; paired histories must have equal lengths");
    }

    [Fact]
    public void Trainer_names_row_group_and_row_when_a_dense_feature_is_NaN_or_infinite()
    {
        var schema = TrainData.Schema(new DenseFeat("price", 1));
        var bad = TrainData.Random(200, seed: 63, schema);
        output.WriteLine("samples seed 63");
        bad[150] = bad[150] with { Dense = new Dictionary<string, float[]> { ["price"] = [float.NaN] } };
        bad[199] = bad[199] with { Dense = new Dictionary<string, float[]> { ["price"] = [float.NegativeInfinity] } };
        var path = TrainData.Write(Data, "train", "part-1.parquet", schema, bad);

        AssertRowsRefused(path, badRows: 2, "non_finite_dense", $"{path}: row group 1, row 50: price is NaN", schema);
    }

    [Fact]
    public void Trainer_names_row_group_and_row_when_an_id_is_null()
    {
        var bad = Samples(200, seed: 64);
        var path = Path.Combine(Data, "train", "part-1.parquet");
        TrainData.WriteNullable(path, bad, i => i is 17 or 118 or 119, rowGroupSize: 100);

        AssertRowsRefused(path, badRows: 3, "null_value", $"{path}: row group 0, row 17: user_id is null");
    }

    [Fact]
    public void Trainer_names_the_file_when_it_is_truncated()
    {
        var path = TrainData.Write(Data, "train", "part-1.parquet", TrainData.Schema(), Samples(200, seed: 65));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        AssertFileRefused(path, "unreadable_file", skippedRows: 0, $"{path}: not a readable Parquet file (");
    }

    [Fact]
    public void Trainer_names_the_file_when_it_is_not_parquet()
    {
        Directory.CreateDirectory(Path.Combine(Data, "train"));
        var path = Path.Combine(Data, "train", "part-1.parquet");
        File.WriteAllText(path, "user_id,item_id\n1,2\n");

        AssertFileRefused(path, "unreadable_file", skippedRows: 0, $"{path}: not a readable Parquet file (");
    }

    [Fact]
    public void Trainer_names_the_file_and_column_when_a_column_is_missing()
    {
        var noCategory = new FeatureSchema(
            [new SparseFeat("user_id", "user", 8), new SparseFeat("item_id", "item", 8), new VarLenSparseFeat("hist_item_id", "item", 50)],
            [new HistoryPair("item_id", "hist_item_id")]);
        var path = TrainData.Write(Data, "train", "part-1.parquet", noCategory, Samples(200, seed: 66));

        AssertFileRefused(path, "schema_mismatch", skippedRows: 200, $"{path}: column 'category_id' is missing (expected int64)");
    }

    [Fact]
    public void Trainer_names_the_file_column_and_both_types_when_a_column_is_mistyped()
    {
        var path = Path.Combine(Data, "train", "part-1.parquet");
        TrainData.WriteNullable(path, Samples(200, seed: 67), _ => false, rowGroupSize: 100, labelAsInt64: true);

        AssertFileRefused(path, "schema_mismatch", skippedRows: 200, $"{path}: column 'label': expected int32, found int64");
    }

    [Fact]
    public void Trainer_names_the_file_when_it_is_empty()
    {
        Directory.CreateDirectory(Path.Combine(Data, "train"));
        var path = Path.Combine(Data, "train", "part-1.parquet");
        File.WriteAllBytes(path, []);

        AssertFileRefused(path, "empty_file", skippedRows: 0, $"{path}: file is empty (0 bytes)");
    }

    [Fact]
    public void Trainer_names_the_file_when_it_has_no_rows()
    {
        var path = TrainData.Write(Data, "train", "part-1.parquet", TrainData.Schema(), []);

        AssertFileRefused(path, "empty_file", skippedRows: 0, $"{path}: file has no rows");
    }

    private List<Sample> Samples(int count, int seed)
    {
        output.WriteLine($"samples seed {seed}");
        return TrainData.Random(count, seed);
    }

    /// <summary>Writes the good train file and the test file, both with <paramref name="schema"/>.</summary>
    private void WriteGood(FeatureSchema schema)
    {
        TrainData.Write(Data, "train", "part-0.parquet", schema, TrainData.Random(GoodRows, seed: 60, schema.Dense.Count > 0 ? schema : null));
        TrainData.Write(Data, "test", "part-0.parquet", schema, TrainData.Random(100, seed: 59, schema.Dense.Count > 0 ? schema : null));
    }

    /// <summary>Bad rows in a readable file: counted per reason, and the epoch's ledger closes over all 500 rows.</summary>
    private void AssertRowsRefused(string badFile, int badRows, string reason, string message, FeatureSchema? schema = null)
    {
        schema ??= TrainData.Schema();
        WriteGood(schema);
        var failed = RunFail(schema, message);
        Assert.Equal(badFile, failed.File);

        var s = RunSkip(schema);
        var epoch = Assert.Single(s.Epochs);
        var total = GoodRows + 200;
        Assert.Equal(new Dictionary<string, long> { [reason] = badRows }, s.BadInput!.SkippedRows);
        Assert.Empty(s.BadInput.SkippedFiles);
        Assert.Equal(total, epoch.SamplesExpected);
        Assert.Equal(total - badRows, epoch.SamplesConsumed);
        Assert.Equal(badRows, epoch.SamplesSkipped);
        Assert.Equal(epoch.SamplesExpected, epoch.SamplesConsumed + epoch.SamplesSkipped);
        Assert.True(epoch.LedgerExact);
    }

    /// <summary>A file that cannot be used at all: counted as a skipped file (plus its rows when the footer tells
    /// them); every row of the good file is trained on.</summary>
    private void AssertFileRefused(string badFile, string reason, long skippedRows, string messageStart)
    {
        var schema = TrainData.Schema();
        WriteGood(schema);
        var failed = RunFail(schema, messageStart, exact: false);
        Assert.Equal((badFile, (int?)null, (long?)null), (failed.File, failed.RowGroup, failed.Row));

        var s = RunSkip(schema);
        var epoch = Assert.Single(s.Epochs);
        Assert.Equal(new Dictionary<string, long> { [reason] = 1 }, s.BadInput!.SkippedFiles);
        var expectedRows = new Dictionary<string, long>();
        if (skippedRows > 0) expectedRows[reason] = skippedRows;
        Assert.Equal(expectedRows, s.BadInput.SkippedRows);
        Assert.Equal(GoodRows, epoch.SamplesConsumed);
        // a refused file's rows (as far as its footer tells them) are expected and skipped
        Assert.Equal(skippedRows, epoch.SamplesSkipped);
        Assert.Equal(epoch.SamplesExpected, epoch.SamplesConsumed + epoch.SamplesSkipped);
        Assert.True(epoch.LedgerExact);
        Assert.Equal(GoodRows + skippedRows, s.Dataset.TrainSamples);
    }

    private BadInputException RunFail(FeatureSchema schema, string message, bool exact = true)
    {
        var job = TrainData.Job(Data, _dir.File("run-fail"), BadInputPolicy.Fail, schema);
        var e = Assert.Throws<BadInputException>(() => new LocalTrainer(job, new StringWriter()).Run());
        output.WriteLine(e.Message);
        if (exact) Assert.Equal(message, e.Message);
        else Assert.StartsWith(message, e.Message);

        var summary = RunSummary.Read(Path.Combine(job.OutDir, "summary.json"));
        Assert.Equal("failed", summary.Status);
        Assert.Equal(e.Message, summary.Error);
        return e;
    }

    private RunSummary RunSkip(FeatureSchema schema)
    {
        var job = TrainData.Job(Data, _dir.File("run-skip"), BadInputPolicy.Skip, schema);
        var returned = new LocalTrainer(job, new StringWriter()).Run();
        var summary = RunSummary.Read(Path.Combine(job.OutDir, "summary.json"));
        output.WriteLine($"bad_input: rows {string.Join(", ", summary.BadInput?.SkippedRows ?? [])}; files {string.Join(", ", summary.BadInput?.SkippedFiles ?? [])}");
        Assert.Equal("completed", summary.Status);
        Assert.Equal(returned.Epochs[0].SamplesConsumed, summary.Epochs[0].SamplesConsumed);
        Assert.True(double.IsFinite(summary.Final!.Auc) && double.IsFinite(summary.Final.LogLoss));
        return summary;
    }
}
