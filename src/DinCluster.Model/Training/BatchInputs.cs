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

    /// <param name="withGrid">Build GridPosition too (only the masked softmax needs it).</param>
    public static BatchInputs Build(Batch batch, BatchIndex index, FeatureSchema schema, ScalarType dtype, bool withGrid)
    {
        // Paired histories have equal lengths: they share one Segment (and grid).
        var shared = new Dictionary<string, VarLenInputs>(StringComparer.Ordinal);
        var pairHistories = schema.HistoryPairs.Select(p => p.History).ToHashSet(StringComparer.Ordinal);
        var varLen = new VarLenInputs[schema.VarLen.Count];
        for (var v = 0; v < varLen.Length; v++)
        {
            var key = pairHistories.Contains(schema.VarLen[v].Name) ? "pairs" : schema.VarLen[v].Name;
            var slots = TensorData.FromInts(index.VarLenSlots[v]);
            varLen[v] = shared.TryGetValue(key, out var first)
                ? first with { Slots = slots }
                : shared[key] = VarLenInputs.Build(batch.Lengths[v], slots, withGrid);
        }
        return new BatchInputs
        {
            Count = batch.Count,
            SparseSlots = index.SparseSlots.Select(TensorData.FromInts).ToArray(),
            VarLen = varLen,
            Dense = schema.Dense.Select((d, f) => TensorData.FromFloats(batch.Dense[f], [batch.Count, d.Dimension], dtype)).ToArray(),
            Labels = TensorData.FromFloats(batch.Labels, [batch.Count], dtype),
        };
    }
}

/// <summary>One varlen feature of a batch, packed; see <see cref="BatchInputs"/>.</summary>
internal sealed record VarLenInputs
{
    /// <summary>Valid positions in the batch (sum of lengths).</summary>
    public required int Positions { get; init; }
    public required int Width { get; init; }
    public required Tensor Slots { get; init; }
    public required Tensor Segment { get; init; }
    public required Tensor? GridPosition { get; init; }

    public static VarLenInputs Build(int[] lengths, Tensor slots, bool withGrid)
    {
        var positions = (int)slots.shape[0];
        var segment = new long[positions];
        var grid = withGrid ? new long[positions] : null;
        var width = 0;
        foreach (var l in lengths) width = Math.Max(width, l);
        var n = 0;
        for (var b = 0; b < lengths.Length; b++)
        {
            segment.AsSpan(n, lengths[b]).Fill(b);
            if (grid is not null)
                for (var t = 0; t < lengths[b]; t++) grid[n + t] = (long)b * width + t;
            n += lengths[b];
        }
        return new VarLenInputs
        {
            Positions = positions,
            Width = width,
            Slots = slots,
            Segment = TensorData.FromLongs(segment),
            GridPosition = grid is null ? null : TensorData.FromLongs(grid),
        };
    }
}
