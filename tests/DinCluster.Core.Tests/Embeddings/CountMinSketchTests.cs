using DinCluster.Core.Embeddings;

namespace DinCluster.Core.Tests.Embeddings;

public sealed class CountMinSketchTests
{
    [Fact]
    public void Sketch_never_undercounts_and_saturates_when_counts_pass_65535()
    {
        var rng = new Random(12);
        var sketch = new CountMinSketch(64); // tiny: many collisions
        var truth = new Dictionary<long, long>();
        for (var i = 0; i < 5000; i++)
        {
            long id = rng.Next(500);
            var c = rng.Next(1, 5);
            truth[id] = truth.GetValueOrDefault(id) + c;
            Assert.True(sketch.Add(id, c) >= Math.Min(truth[id], ushort.MaxValue));
        }
        Assert.Equal(ushort.MaxValue, sketch.Add(-1, 70_000));
        Assert.Equal(ushort.MaxValue, sketch.Add(-1, 1));
    }
}
