using DinCluster.Core.Batches;
using DinCluster.Core.Features;

namespace DinCluster.Core.Tests.Batches;

public sealed class BatchIndexTests
{
    private static readonly FeatureSchema Schema = FeatureSchema.Default(dim: 4, maxLen: 8);

    /// <summary>user, item, category per sample; paired histories of the given lengths.</summary>
    private static Batch Sample()
    {
        int[] lengths = [2, 0, 3, 1];
        long[] items = [7, 8, 9, 7, 5, 6];
        return new Batch
        {
            BatchId = 1,
            Count = 4,
            Sparse = [[1, 2, 1, 3], [5, 7, 9, 4], [1, 1, 3, 0]],
            Dense = [],
            Lengths = [lengths, (int[])lengths.Clone()],
            Values = [items, items.Select(i => i % 4).ToArray()],
            Labels = [1, 0, 1, 0],
        };
    }

    [Fact]
    public void A_slice_points_at_the_same_unique_rows_as_the_whole_batch()
    {
        var batch = Sample();
        var whole = BatchIndex.Build(batch, Schema);
        var slice = whole.Slice(batch, 2, 2);

        Assert.Same(whole.UniqueIds, slice.UniqueIds);
        var part = batch.Slice(2, 2, 1);
        for (var f = 0; f < Schema.Sparse.Count; f++)
        {
            var table = Schema.TableIndex(Schema.Sparse[f].Table);
            Assert.Equal(part.Sparse[f], slice.SparseSlots[f].Select(s => whole.UniqueIds[table][s]));
        }
        for (var v = 0; v < Schema.VarLen.Count; v++)
        {
            var table = Schema.TableIndex(Schema.VarLen[v].Table);
            // Samples 2 and 3 hold history positions 2..5 of the packed values.
            Assert.Equal(4, slice.VarLenSlots[v].Length);
            Assert.Equal(part.Values[v], slice.VarLenSlots[v].Select(s => whole.UniqueIds[table][s]));
        }
    }

    [Fact]
    public void A_slice_outside_the_batch_is_refused_with_its_bounds()
    {
        var batch = Sample();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BatchIndex.Build(batch, Schema).Slice(batch, 3, 2));
        Assert.Contains("[3, 5) of a batch of 4", e.Message);
    }
}
