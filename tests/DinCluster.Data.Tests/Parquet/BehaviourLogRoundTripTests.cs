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
        for (var i = 0; i < samples.Count; i++) Samples.AssertSame(samples[i], all, i);
        Assert.True(reader.Counts.IsEmpty);
    }
}
