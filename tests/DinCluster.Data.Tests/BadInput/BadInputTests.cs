using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using Parquet;
using Xunit.Abstractions;

namespace DinCluster.Data.Tests.BadInput;

/// <summary>
/// One test per kind of bad input: under Fail the exception names file, row group and row (what is
/// known); under Skip exactly the injected rows (or file / row group) are counted and every other
/// row comes through.
/// </summary>
public sealed class BadInputTests(ITestOutputHelper output) : IDisposable
{
    private static readonly FeatureSchema Schema = FeatureSchema.Default();
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reader_names_file_row_group_and_row_when_a_label_is_not_0_or_1()
    {
        var samples = Samples.Random(600, seed: 21, log: output.WriteLine);
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        samples[513] = samples[513] with { Label = 7 };
        samples[514] = samples[514] with { Label = -1 };
        BehaviourLogWriter.WriteFile(path, Schema, samples, rowGroupSize: 200);

        AssertBadRows(path, Schema, samples, [513, 514], BadInputReason.InvalidLabel,
            $"{path}: row group 2, row 113: label is 7, must be 0 or 1");
    }

    [Fact]
    public void Reader_names_file_row_group_and_row_when_paired_histories_differ_in_length()
    {
        var samples = Samples.Random(300, seed: 22, log: output.WriteLine);
        samples[5] = samples[5] with { HistItems = [1, 2, 3], HistCategories = [4, 5] };
        samples[250] = samples[250] with { HistItems = [], HistCategories = [4] };
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        BehaviourLogWriter.WriteFile(path, Schema, samples, rowGroupSize: 100);

        AssertBadRows(path, Schema, samples, [5, 250], BadInputReason.HistoryLengthMismatch,
            $"{path}: row group 0, row 5: hist_item_id has 3 ids, hist_category_id has 2; paired histories must have equal lengths");
    }

    [Fact]
    public void Reader_names_file_row_group_and_row_when_a_dense_scalar_is_NaN_or_infinite()
    {
        var schema = WithDense(new DenseFeat("price", 1));
        var samples = Samples.Random(200, seed: 23, log: output.WriteLine)
            .Select((s, i) => s with { Dense = new Dictionary<string, float[]> { ["price"] = [i] } }).ToList();
        samples[7] = samples[7] with { Dense = new Dictionary<string, float[]> { ["price"] = [float.NaN] } };
        samples[120] = samples[120] with { Dense = new Dictionary<string, float[]> { ["price"] = [float.PositiveInfinity] } };
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        BehaviourLogWriter.WriteFile(path, schema, samples, rowGroupSize: 100);

        AssertBadRows(path, schema, samples, [7, 120], BadInputReason.NonFiniteDense, $"{path}: row group 0, row 7: price is NaN");
    }

    [Fact]
    public void Reader_names_file_row_group_and_row_when_a_dense_vector_holds_an_infinity()
    {
        var schema = WithDense(new DenseFeat("context", 2));
        var samples = Samples.Random(200, seed: 24, log: output.WriteLine)
            .Select((s, i) => s with { Dense = new Dictionary<string, float[]> { ["context"] = [i, -i] } }).ToList();
        samples[130] = samples[130] with { Dense = new Dictionary<string, float[]> { ["context"] = [1, float.NegativeInfinity] } };
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        BehaviourLogWriter.WriteFile(path, schema, samples, rowGroupSize: 100);

        AssertBadRows(path, schema, samples, [130], BadInputReason.NonFiniteDense, $"{path}: row group 1, row 30: context[1] is -Infinity");
    }

    [Fact]
    public void Reader_names_file_row_group_and_row_when_a_dense_vector_has_the_wrong_length()
    {
        var schema = WithDense(new DenseFeat("context", 3));
        var samples = Samples.Random(120, seed: 25, log: output.WriteLine)
            .Select((s, i) => s with { Dense = new Dictionary<string, float[]> { ["context"] = [i, i, i] } }).ToList();
        samples[61] = samples[61] with { Dense = new Dictionary<string, float[]> { ["context"] = [1, 2] } };
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        BehaviourLogWriter.WriteFile(path, schema, samples, rowGroupSize: 50);

        AssertBadRows(path, schema, samples, [61], BadInputReason.DenseDimensionMismatch, $"{path}: row group 1, row 11: context has 2 values, expected 3");
    }

    [Fact]
    public void Reader_names_file_row_group_and_row_when_a_sparse_id_is_null()
    {
        var samples = Samples.Random(300, seed: 26, log: output.WriteLine);
        var rows = samples.Select(RawLog.Row.From).ToList();
        rows[3] = rows[3] with { User = null };
        rows[160] = rows[160] with { Item = null };
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        RawLog.Write(path, rows, rowGroupSize: 150);

        AssertBadRows(path, Schema, samples, [3, 160], BadInputReason.NullValue, $"{path}: row group 0, row 3: user_id is null");
    }

    [Fact]
    public void Reader_names_file_row_group_and_row_when_a_history_holds_a_null_id()
    {
        var samples = Samples.Random(300, seed: 27, log: output.WriteLine);
        var rows = samples.Select(RawLog.Row.From).ToList();
        rows[209] = rows[209] with { HistItems = [1, null, 3], HistCategories = [4, 5, 6] };   // also short of an id: counted once
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        RawLog.Write(path, rows, rowGroupSize: 100);

        AssertBadRows(path, Schema, samples, [209], BadInputReason.NullValue, $"{path}: row group 2, row 9: hist_item_id has a null id at position 1");
    }

    [Fact]
    public void Reader_names_file_row_group_and_row_when_a_history_list_or_label_is_null()
    {
        var samples = Samples.Random(300, seed: 28, log: output.WriteLine);
        var rows = samples.Select(RawLog.Row.From).ToList();
        rows[11] = rows[11] with { HistCategories = null, HistItems = null };
        rows[12] = rows[12] with { Label = null };
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        RawLog.Write(path, rows, rowGroupSize: 100);

        AssertBadRows(path, Schema, samples, [11, 12], BadInputReason.NullValue,
            $"{path}: row group 0, row 11: hist_item_id is null (an empty list is written as [])");
    }

    [Fact]
    public void Reader_reports_the_first_bad_row_in_row_order_when_columns_fail_in_another_order()
    {
        var samples = Samples.Random(100, seed: 29, log: output.WriteLine);
        var rows = samples.Select(RawLog.Row.From).ToList();
        rows[20] = rows[20] with { User = null };   // the user_id column is checked first
        rows[4] = rows[4] with { Label = 3 };       // but this row comes first
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        RawLog.Write(path, rows, rowGroupSize: 100);

        var e = Assert.Throws<BadInputException>(() => new BehaviourLogReader(Schema).ReadRowGroup(path, 0, 0));

        Assert.Equal($"{path}: row group 0, row 4: label is 3, must be 0 or 1", e.Message);
        Assert.Equal((path, 0, 4L, BadInputReason.InvalidLabel), (e.File, e.RowGroup, e.Row, e.Reason));
    }

    [Fact]
    public void Reader_refuses_the_file_when_it_is_truncated()
    {
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        BehaviourLogWriter.WriteFile(path, Schema, Samples.Random(500, seed: 30, log: output.WriteLine), rowGroupSize: 100);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        AssertBadFile(path, BadInputReason.UnreadableFile, $"{path}: not a readable Parquet file (");
    }

    [Fact]
    public void Reader_refuses_the_file_when_it_is_not_parquet()
    {
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        var garbage = new byte[4096];
        new Random(31).NextBytes(garbage);
        output.WriteLine("garbage seed 31");
        File.WriteAllBytes(path, garbage);

        AssertBadFile(path, BadInputReason.UnreadableFile, $"{path}: not a readable Parquet file (");
    }

    [Fact]
    public void Reader_refuses_the_file_when_it_has_zero_bytes()
    {
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        File.WriteAllBytes(path, []);

        AssertBadFile(path, BadInputReason.EmptyFile, $"{path}: file is empty (0 bytes)");
    }

    [Fact]
    public void Reader_refuses_the_file_when_it_has_zero_rows()
    {
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        BehaviourLogWriter.WriteFile(path, Schema, []);

        AssertBadFile(path, BadInputReason.EmptyFile, $"{path}: file has no rows");
    }

    [Fact]
    public void Reader_refuses_the_file_and_counts_its_rows_when_a_column_is_missing()
    {
        var noCategories = new FeatureSchema(
            [new SparseFeat("user_id", "user", 8), new SparseFeat("item_id", "item", 8), new VarLenSparseFeat("hist_item_id", "item", 50)],
            [new HistoryPair("item_id", "hist_item_id")]);
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        BehaviourLogWriter.WriteFile(path, noCategories, Enumerable.Range(0, 40).Select(i => new Sample(i, i, 0, [i], [], 1)), rowGroupSize: 16);

        AssertBadFile(path, BadInputReason.SchemaMismatch, $"{path}: column 'category_id' is missing (expected int64)", rows: 40);
    }

    [Fact]
    public void Reader_refuses_the_file_and_counts_its_rows_when_a_column_is_mistyped()
    {
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        RawLog.Write(path, Samples.Random(70, seed: 32, log: output.WriteLine).Select(RawLog.Row.From).ToList(), rowGroupSize: 50, labelAsInt64: true);

        AssertBadFile(path, BadInputReason.SchemaMismatch, $"{path}: column 'label': expected int32, found int64", rows: 70);
    }

    [Fact]
    public async Task Reader_skips_only_the_row_group_that_cannot_be_decoded_when_the_footer_is_intact()
    {
        var samples = Samples.Random(300, seed: 33, log: output.WriteLine);
        var path = Path.Combine(_dir.Path, "part-0.parquet");
        BehaviourLogWriter.WriteFile(path, Schema, samples, rowGroupSize: 100);
        await CorruptFirstPageAsync(path, rowGroup: 1);

        var e = Assert.Throws<BadInputException>(() => new BehaviourLogReader(Schema).ReadFile(path, 64).ToList());
        output.WriteLine(e.Message);
        Assert.StartsWith($"{path}: row group 1: cannot be decoded (", e.Message);
        Assert.Equal((1, (long?)null, BadInputReason.UnreadableRowGroup), (e.RowGroup, e.Row, e.Reason));

        var counts = new BadInputCounts();
        var batches = new BehaviourLogReader(Schema, BadInputPolicy.Skip, counts).ReadFile(path, 64).ToList();
        Assert.Equal(1, counts.SkippedRowGroups(BadInputReason.UnreadableRowGroup));
        Assert.Equal(100, counts.SkippedRows(BadInputReason.UnreadableRowGroup));
        AssertRows([.. samples[..100], .. samples[200..]], batches);
    }

    [Fact]
    public void Counts_add_up_by_reason_when_merged_and_updated_from_several_threads()
    {
        var a = new BadInputCounts();
        var b = new BadInputCounts();
        Parallel.For(0, 1000, i =>
        {
            a.AddRows(BadInputReason.InvalidLabel, 1);
            if (i % 10 == 0) a.AddTruncatedHistories(2);
        });
        b.AddFile(BadInputReason.UnreadableFile, 0);
        b.AddRowGroup(BadInputReason.UnreadableRowGroup, 8192);

        a.Merge(b);
        var s = a.Snapshot();

        Assert.Equal(new Dictionary<string, long> { ["invalid_label"] = 1000, ["unreadable_row_group"] = 8192 }, s.SkippedRows);
        Assert.Equal(new Dictionary<string, long> { ["unreadable_row_group"] = 1 }, s.SkippedRowGroups);
        Assert.Equal(new Dictionary<string, long> { ["unreadable_file"] = 1 }, s.SkippedFiles);
        Assert.Equal(200, s.TruncatedHistories);
        Assert.Equal(9192, a.TotalSkippedRows);
    }

    private static FeatureSchema WithDense(DenseFeat dense) => new([.. Schema.Sparse, .. Schema.VarLen, dense], Schema.HistoryPairs);

    /// <summary>Fail names the first bad row; Skip counts exactly the bad rows and returns all the others.</summary>
    private void AssertBadRows(string path, FeatureSchema schema, List<Sample> samples, int[] bad, BadInputReason reason, string message)
    {
        var e = Assert.Throws<BadInputException>(() => new BehaviourLogReader(schema).ReadFile(path, 64).ToList());
        output.WriteLine(e.Message);
        Assert.Equal(message, e.Message);
        Assert.Equal((path, reason), (e.File, e.Reason));

        var counts = new BadInputCounts();
        var batches = new BehaviourLogReader(schema, BadInputPolicy.Skip, counts).ReadFile(path, 64).ToList();
        output.WriteLine(counts.ToString());
        Assert.Equal(bad.Length, counts.SkippedRows(reason));
        Assert.Equal(bad.Length, counts.TotalSkippedRows);
        AssertRows(samples.Where((_, i) => !bad.Contains(i)).ToList(), batches);
    }

    /// <summary>Fail refuses the file at Inspect; Skip returns null, counts the file (and its rows if known) and reads nothing.</summary>
    private void AssertBadFile(string path, BadInputReason reason, string messageStart, long rows = 0)
    {
        var e = Assert.Throws<BadInputException>(() => new BehaviourLogReader(Schema).Inspect(path));
        output.WriteLine(e.Message);
        Assert.StartsWith(messageStart, e.Message);
        Assert.Equal((path, (int?)null, (long?)null, reason), (e.File, e.RowGroup, e.Row, e.Reason));

        var inspected = new BadInputCounts();
        Assert.Null(new BehaviourLogReader(Schema, BadInputPolicy.Skip, inspected).Inspect(path));
        var read = new BadInputCounts();
        Assert.Empty(new BehaviourLogReader(Schema, BadInputPolicy.Skip, read).ReadFile(path, 64));
        foreach (var counts in new[] { inspected, read })
        {
            Assert.Equal(1, counts.SkippedFiles(reason));
            Assert.Equal(1, counts.TotalSkippedFiles);
            Assert.Equal(rows, counts.SkippedRows(reason));
        }
    }

    private static void AssertRows(List<Sample> expected, List<Batch> batches)
    {
        var all = Batch.Concat(batches, 0);
        Assert.Equal(expected.Count, all.Count);
        for (var i = 0; i < expected.Count; i++) Samples.AssertSame(expected[i], all, i);
    }

    /// <summary>Zeroes the page header of the row group's first column chunk: the footer still reads, the chunk does not.</summary>
    private static async Task CorruptFirstPageAsync(string path, int rowGroup)
    {
        long offset;
        await using (var reader = await ParquetReader.CreateAsync(path))
            offset = reader.RowGroups[rowGroup].RowGroup.Columns[0].MetaData!.DataPageOffset;
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        file.Position = offset;
        await file.WriteAsync(new byte[16]);
    }
}
