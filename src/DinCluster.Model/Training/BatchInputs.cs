using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using static TorchSharp.torch;

namespace DinCluster.Model.Training;

/// <summary>
/// The index tensors of one batch. Histories stay packed as in <see cref="Batch.Values"/>
/// (no padding): position n of a varlen feature belongs to sample Segment[n].
/// <code>
///   Lengths      [2, 0, 3]
///   Slots        [a1 a2 | c1 c2 c3]     rows of the pulled table
///   Segment      [0  0  | 2  2  2 ]     sample of each position
///   GridPosition [0  1  | 6  7  8 ]     b * Width + t, Width = longest history in this batch (3)
/// </code>
/// Built inside the caller's dispose scope.
/// </summary>
internal sealed class BatchInputs
{
    public required int Count { get; init; }
    public required Tensor[] SparseSlots { get; init; }
    public required VarLenInputs[] VarLen { get; init; }
    public required Tensor[] Dense { get; init; }
    public required Tensor Labels { get; init; }

    public static BatchInputs Build(Batch batch, BatchIndex index, FeatureSchema schema, ScalarType dtype)
    {
        var varLen = new VarLenInputs[schema.VarLen.Count];
        for (var v = 0; v < varLen.Length; v++)
            varLen[v] = VarLenInputs.Build(batch.Lengths[v], index.VarLenSlots[v]);
        return new BatchInputs
        {
            Count = batch.Count,
            SparseSlots = index.SparseSlots.Select(s => TensorData.FromLongs(ToLongs(s))).ToArray(),
            VarLen = varLen,
            Dense = schema.Dense.Select((d, f) => TensorData.FromFloats(batch.Dense[f], [batch.Count, d.Dimension], dtype)).ToArray(),
            Labels = TensorData.FromFloats(batch.Labels, [batch.Count], dtype),
        };
    }

    private static long[] ToLongs(int[] values)
    {
        var longs = new long[values.Length];
        for (var i = 0; i < values.Length; i++) longs[i] = values[i];
        return longs;
    }
}

/// <summary>One varlen feature of a batch, packed; see <see cref="BatchInputs"/>.</summary>
internal sealed class VarLenInputs
{
    /// <summary>Valid positions in the batch (sum of lengths).</summary>
    public required int Positions { get; init; }
    public required int Width { get; init; }
    public required Tensor Slots { get; init; }
    public required Tensor Segment { get; init; }
    public required Tensor GridPosition { get; init; }

    public static VarLenInputs Build(int[] lengths, int[] slots)
    {
        var segment = new long[slots.Length];
        var grid = new long[slots.Length];
        var width = 0;
        foreach (var l in lengths) width = Math.Max(width, l);
        var n = 0;
        for (var b = 0; b < lengths.Length; b++)
            for (var t = 0; t < lengths[b]; t++, n++)
            {
                segment[n] = b;
                grid[n] = (long)b * width + t;
            }
        var longSlots = new long[slots.Length];
        for (var i = 0; i < slots.Length; i++) longSlots[i] = slots[i];
        return new VarLenInputs
        {
            Positions = slots.Length,
            Width = width,
            Slots = TensorData.FromLongs(longSlots),
            Segment = TensorData.FromLongs(segment),
            GridPosition = TensorData.FromLongs(grid),
        };
    }
}
