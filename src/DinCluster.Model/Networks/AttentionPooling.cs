using DinCluster.Model.Layers;
using DinCluster.Model.Training;
using static TorchSharp.torch;

namespace DinCluster.Model.Networks;

/// <summary>
/// The activation unit and the pooling of DIN over packed (valid-only) history positions.
/// The unit's first layer reads [q, k, q - k, q * k]; with W = [Wq | Wk | Wd | Wp] that is
/// (Wq + Wd) q + (Wk - Wd) k + Wp (q * k), so the q part is computed once per sample and only
/// the k and q * k parts once per position. No padded [B, T] grid is ever multiplied.
/// </summary>
internal static class AttentionPooling
{
    /// <summary>Scores a_t [N] for q [B, E] and packed keys [N, E].</summary>
    public static Tensor Scores(Mlp unit, Tensor q, Tensor keys, VarLenInputs history, bool training)
    {
        var e = q.shape[1];
        var first = unit.First;
        var w = first.Weight;
        var wq = w.narrow(1, 0, e);
        var wk = w.narrow(1, e, e);
        var wd = w.narrow(1, 2 * e, e);
        var wp = w.narrow(1, 3 * e, e);
        var perSample = nn.functional.linear(q, wq.add(wd, Scalars.One), first.Bias)                  // [B, H]
            .index_select(0, history.Segment);                                        // [N, H]
        // One GEMM with K = 2E is faster than two with K = E, the copy into [k, q * k] included.
        var perPosition = cat([keys, q.index_select(0, history.Segment) * keys], 1);  // [N, 2E]
        var s0 = perSample.addmm(perPosition, cat([wk - wd, wp], 1).t());
        return unit.FromFirstPreActivation(s0, training).view(-1);
    }

    /// <summary>v [B, E] = sum over each sample's valid positions of weight_t * k_t.</summary>
    public static Tensor Pool(Tensor weights, Tensor keys, VarLenInputs history, int count) =>
        SumPool(keys * weights.unsqueeze(1), history, count);

    /// <summary>[B, d] = sum of each sample's rows of <paramref name="values"/> [N, d] (the base preset's pooling too).</summary>
    public static Tensor SumPool(Tensor values, VarLenInputs history, int count) =>
        zeros([count, values.shape[1]], values.dtype).index_add(0, history.Segment, values, Scalars.One);

    /// <summary>
    /// Softmax of the scores over each sample's valid positions. The scores are laid on the
    /// batch's own [B, Width] grid, padding filled with a large negative value (exp gives exactly 0),
    /// and read back at the valid positions only. Finite fill keeps rows of length 0 NaN-free.
    /// </summary>
    public static Tensor MaskedSoftmax(Tensor scores, VarLenInputs history, int count)
    {
        var positions = history.GridPosition ?? throw new InvalidOperationException("the batch inputs were built without grid positions");
        var grid = full([count * (long)history.Width], Scalars.MaskFill, scores.dtype)
            .index_copy(0, positions, scores)
            .view(count, history.Width)
            .softmax(1);
        return grid.view(-1).index_select(0, positions);
    }
}
