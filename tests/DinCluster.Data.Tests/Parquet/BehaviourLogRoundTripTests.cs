using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using Xunit.Abstractions;

namespace DinCluster.Data.Tests.Parquet;

public sealed class BehaviourLogRoundTripTests(ITestOutputHelper output)
{
    private static readonly FeatureSchema Schema = FeatureSchema.Default();

    [Fact]
    public void Reader_returns_written_samples_when_read_back_row_group_by_row_group()
    {
        using var dir = new TempDir();
        var path = dir.File("part-0.parquet");
        var samples = Samples.Random(1000, seed: 11, log: output.WriteLine);
        BehaviourLogWriter.WriteFile(path, Schema, samples, rowGroupSize: 300);

        var reader = new BehaviourLogReader(Schema);
        var info = reader.Inspect(path)!;
        Assert.Equal([300L, 300, 300, 100], info.RowGroupRows);
        Assert.Equal(1000, info.Rows);

        var read = new List<Batch>();
        for (var g = 0; g < info.RowGroupCount; g++) read.Add(reader.ReadRowGroup(path, g, batchId: g));
        var all = Batch.Concat(read, 0);
        all.Validate(Schema);
        Assert.Equal(1000, all.Count);
        Assert.Contains(0, all.Lengths[0]);   // empty histories came through as empty
        for (var i = 0; i < samples.Count; i++) Samples.AssertSame(samples[i], all, i);
        Assert.True(reader.Counts.IsEmpty);
    }

    [Fact]
    public async Task Writer_writes_a_row_group_of_no_rows_that_reads_back_empty_between_the_others()
    {
        using var dir = new TempDir();
        var path = dir.File("part-0.parquet");
        var samples = Samples.Random(500, seed: 12, log: output.WriteLine);
        await using (var writer = await BehaviourLogWriter.CreateAsync(path, Schema, rowGroupSize: 200))
        {
            foreach (var s in samples.Take(250)) await writer.WriteAsync(s);
            await writer.WriteEmptyRowGroupAsync();   // ends the 50-row group first
            foreach (var s in samples.Skip(250)) await writer.WriteAsync(s);
        }

        var reader = new BehaviourLogReader(Schema);
        var info = reader.Inspect(path)!;
        Assert.Equal([200L, 50, 0, 200, 50], info.RowGroupRows);
        Assert.Equal(0, reader.ReadRowGroup(path, 2, batchId: 2).Count);
        var all = Batch.Concat([.. Enumerable.Range(0, info.RowGroupCount).Select(g => reader.ReadRowGroup(path, g, batchId: g))], 0);
        Assert.Equal(500, all.Count);
        for (var i = 0; i < samples.Count; i++) Samples.AssertSame(samples[i], all, i);
        Assert.True(reader.Counts.IsEmpty);
    }

    [Fact]
    public void Reader_reads_labels_as_0_when_no_label_is_required_and_the_file_has_none()
    {
        using var dir = new TempDir();
        var path = dir.File("part-0.parquet");
        var samples = Samples.Random(200, seed: 13, log: output.WriteLine);
        var noLabel = new FeatureSchema([.. Schema.Sparse, .. Schema.VarLen], Schema.HistoryPairs, label: "clicked");
        BehaviourLogWriter.WriteFile(path, noLabel, samples, rowGroupSize: 150);

        var required = Assert.Throws<BadInputException>(() => new BehaviourLogReader(Schema).Inspect(path));
        Assert.Equal($"{path}: column 'label' is missing (expected int32)", required.Message);

        var reader = new BehaviourLogReader(Schema, requireLabel: false);
        var info = reader.Inspect(path)!;
        Assert.False(info.HasLabel);
        var all = Batch.Concat(reader.ReadFile(path, batchSize: 64).ToList(), 0);
        Assert.Equal(200, all.Count);
        Assert.All(all.Labels, l => Assert.Equal(0f, l));
        for (var i = 0; i < samples.Count; i++) Samples.AssertSame(samples[i] with { Label = 0 }, all, i);
        Assert.True(new BehaviourLogReader(Schema, requireLabel: false).Inspect(WithLabel(dir, samples))!.HasLabel);
    }

    private static string WithLabel(TempDir dir, IEnumerable<Sample> samples)
    {
        var path = dir.File("labelled.parquet");
        BehaviourLogWriter.WriteFile(path, Schema, samples);
        return path;
    }

    [Fact]
    public void ReadBatches_cuts_a_row_group_into_batches_of_batch_size_when_it_does_not_divide_evenly()
    {
        using var dir = new TempDir();
        var path = dir.File("part-0.parquet");
        var samples = Samples.Random(250, seed: 12, log: output.WriteLine);
        BehaviourLogWriter.WriteFile(path, Schema, samples, rowGroupSize: 250);

        var batches = new BehaviourLogReader(Schema).ReadBatches(path, 0, batchSize: 64, firstBatchId: 100).ToList();

        Assert.Equal([64, 64, 64, 58], batches.Select(b => b.Count));
        Assert.Equal([100L, 101, 102, 103], batches.Select(b => b.BatchId));
        var all = Batch.Concat(batches, 0);
        for (var i = 0; i < samples.Count; i++) Samples.AssertSame(samples[i], all, i);
    }

    [Fact]
    public async Task ReadBatchesAsync_yields_the_batches_of_ReadBatches_when_reading_the_same_row_group()
    {
        using var dir = new TempDir();
        var path = dir.File("part-0.parquet");
        BehaviourLogWriter.WriteFile(path, Schema, Samples.Random(300, seed: 13, log: output.WriteLine), rowGroupSize: 200);
        var reader = new BehaviourLogReader(Schema);

        var sync = reader.ReadBatches(path, 1, 32, 0).ToList();
        var async = new List<Batch>();
        await foreach (var b in reader.ReadBatchesAsync(path, 1, 32, 0)) async.Add(b);

        Assert.Equal(sync.Count, async.Count);
        for (var k = 0; k < sync.Count; k++)
        {
            Assert.Equal(sync[k].Sparse, async[k].Sparse);
            Assert.Equal(sync[k].Values, async[k].Values);
            Assert.Equal(sync[k].Lengths, async[k].Lengths);
            Assert.Equal(sync[k].Labels, async[k].Labels);
        }
    }

    [Fact]
    public void ReadFile_returns_every_row_group_in_order_when_batches_span_the_file()
    {
        using var dir = new TempDir();
        var path = dir.File("part-0.parquet");
        var samples = Samples.Random(500, seed: 14, log: output.WriteLine);
        BehaviourLogWriter.WriteFile(path, Schema, samples, rowGroupSize: 128);

        var batches = new BehaviourLogReader(Schema).ReadFile(path, batchSize: 100).ToList();

        Assert.Equal(Enumerable.Range(0, batches.Count).Select(i => (long)i), batches.Select(b => b.BatchId));
        var all = Batch.Concat(batches, 0);
        Assert.Equal(500, all.Count);
        for (var i = 0; i < samples.Count; i++) Samples.AssertSame(samples[i], all, i);
    }

    [Fact]
    public void Reader_returns_extra_columns_when_the_feature_schema_declares_them()
    {
        var schema = new FeatureSchema(
            [
                new SparseFeat("user_id", "user", 8),
                new SparseFeat("item_id", "item", 8),
                new SparseFeat("category_id", "category", 8),
                new SparseFeat("shop_id", "shop", 4),
                new VarLenSparseFeat("hist_item_id", "item", 50),
                new VarLenSparseFeat("hist_category_id", "category", 50),
                new VarLenSparseFeat("hist_shop_id", "shop", 7),
                new DenseFeat("price", 1),
                new DenseFeat("context", 3),
            ],
            [new HistoryPair("item_id", "hist_item_id"), new HistoryPair("category_id", "hist_category_id")]);
        var baseSamples = Samples.Random(200, seed: 15, log: output.WriteLine);
        var samples = baseSamples.Select((s, i) => s with
        {
            Sparse = new Dictionary<string, long> { ["shop_id"] = i * 7L },
            VarLen = new Dictionary<string, long[]> { ["hist_shop_id"] = Enumerable.Range(0, i % 4).Select(k => (long)(i + k)).ToArray() },
            Dense = new Dictionary<string, float[]> { ["price"] = [i * 0.5f], ["context"] = [i, -i, i / 3f] },
        }).ToList();
        using var dir = new TempDir();
        var path = dir.File("extra.parquet");
        BehaviourLogWriter.WriteFile(path, schema, samples, rowGroupSize: 64, withTimestamp: true);

        var batch = Batch.Concat(new BehaviourLogReader(schema).ReadFile(path, 1000).ToList(), 0);

        batch.Validate(schema);
        var shop = schema.SparseIndex("shop_id");
        var histShop = schema.VarLenIndex("hist_shop_id");
        var offset = 0;
        for (var i = 0; i < samples.Count; i++)
        {
            Assert.Equal(i * 7L, batch.Sparse[shop][i]);
            Assert.Equal(samples[i].VarLen!["hist_shop_id"], batch.Values[histShop].AsSpan(offset, batch.Lengths[histShop][i]).ToArray());
            offset += batch.Lengths[histShop][i];
            Assert.Equal(i * 0.5f, batch.Dense[0][i]);
            Assert.Equal(samples[i].Dense!["context"], batch.Dense[1].AsSpan(i * 3, 3).ToArray());
        }
    }

    [Fact]
    public void Writer_writes_batches_that_read_back_equal_when_given_batches_instead_of_samples()
    {
        using var dir = new TempDir();
        var source = dir.File("source.parquet");
        var copy = dir.File("copy.parquet");
        BehaviourLogWriter.WriteFile(source, Schema, Samples.Random(300, seed: 16, log: output.WriteLine));
        var reader = new BehaviourLogReader(Schema);
        var original = reader.ReadRowGroup(source, 0, 0);

        using (var writer = BehaviourLogWriter.Create(copy, Schema, rowGroupSize: 70))
            foreach (var part in reader.ReadBatches(source, 0, 50, 0)) writer.Write(part);
        var copied = Batch.Concat(reader.ReadFile(copy, 1000).ToList(), 0);

        Assert.Equal(5, reader.Inspect(copy)!.RowGroupCount);
        Assert.Equal(original.Sparse, copied.Sparse);
        Assert.Equal(original.Lengths, copied.Lengths);
        Assert.Equal(original.Values, copied.Values);
        Assert.Equal(original.Labels, copied.Labels);
    }

    [Fact]
    public void Reader_accepts_optional_columns_and_double_dense_when_they_hold_no_nulls()
    {
        var schema = new FeatureSchema([.. Schema.Sparse, .. Schema.VarLen, new DenseFeat("price", 1)], Schema.HistoryPairs);
        var samples = Samples.Random(150, seed: 17, log: output.WriteLine);
        using var dir = new TempDir();
        var path = dir.File("pyarrow-style.parquet");
        RawLog.Write(path, samples.Select((s, i) => RawLog.Row.From(s) with { Price = i + 0.25 }).ToList(), rowGroupSize: 100, withPrice: true);

        var batch = Batch.Concat(new BehaviourLogReader(schema).ReadFile(path, 1000).ToList(), 0);

        Assert.Equal(150, batch.Count);
        for (var i = 0; i < samples.Count; i++)
        {
            Samples.AssertSame(samples[i], batch, i);
            Assert.Equal(i + 0.25f, batch.Dense[0][i]);
        }
    }

    [Fact]
    public void Writer_leaves_no_partial_row_when_a_sample_lacks_a_declared_feature()
    {
        var schema = new FeatureSchema(
            [.. Schema.Sparse, .. Schema.VarLen, new VarLenSparseFeat("hist_shop_id", "item", 5)], Schema.HistoryPairs);
        var good = new Sample(1, 2, 3, [4], [5], 1) { VarLen = new Dictionary<string, long[]> { ["hist_shop_id"] = [6, 7] } };
        using var dir = new TempDir();
        var path = dir.File("partial.parquet");

        using (var writer = BehaviourLogWriter.Create(path, schema))
        {
            writer.Write(good);
            var e = Assert.Throws<ArgumentException>(() => writer.Write(good with { VarLen = null }));
            Assert.Equal("the sample has no value for feature 'hist_shop_id'", e.Message);
            writer.Write(good with { UserId = 9 });
        }
        var batch = new BehaviourLogReader(schema).ReadRowGroup(path, 0, 0);

        Assert.Equal([1L, 9], batch.Sparse[0]);
        Assert.Equal([4L, 4], batch.Values[0]);
        Assert.Equal([6L, 7, 6, 7], batch.Values[2]);
    }

    [Fact]
    public void Reader_keeps_the_most_recent_ids_when_a_history_is_longer_than_maxlen()
    {
        var schema = FeatureSchema.Default(maxLen: 3);
        long[] items = [10, 11, 12, 13, 14];   // oldest first
        long[] categories = [20, 21, 22, 23, 24];
        var samples = new[]
        {
            new Sample(1, 2, 3, items, categories, 1),
            new Sample(1, 2, 3, [10, 11], [20, 21], 0),
            new Sample(1, 2, 3, [10, 11, 12, 13], [20, 21, 22, 23], 0),
        };
        using var dir = new TempDir();
        var path = dir.File("long.parquet");
        BehaviourLogWriter.WriteFile(path, schema, samples);
        var reader = new BehaviourLogReader(schema);

        var batch = reader.ReadRowGroup(path, 0, 0);

        Assert.Equal([3, 2, 3], batch.Lengths[0]);
        Assert.Equal([12L, 13, 14, 10, 11, 11, 12, 13], batch.Values[0]);
        Assert.Equal([22L, 23, 24, 20, 21, 21, 22, 23], batch.Values[1]);
        Assert.Equal(2, reader.Counts.TruncatedHistories);
        Assert.Equal(0, reader.Counts.TotalSkippedRows);
    }
}
