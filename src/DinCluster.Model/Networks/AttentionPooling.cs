using DinCluster.Model.Layers;
using DinCluster.Model.Training;
using static TorchSharp.torch;

namespace DinCluster.Model.Networks;

/// <summary>
/// The activation unit and the pooling of DIN over packed (valid-only) history positions.
/// <para>
/// The unit's first layer reads [q, k, q - k, q * k]; with W = [Wq | Wk | Wd | Wp] that is
/// (Wq + Wd) q + (Wk - Wd) k + Wp (q * k), so the q part is computed once per sample and only
/// the k and q * k parts once per position. No padded [B, T] grid is ever multiplied.
/// </para>
/// <para>
/// Queries and keys stay split by history pair (q = [q_0 | q_1 ...], k = [k_0 | k_1 ...]) and each
/// weight block is cut to match: concatenating the gathered keys would hand their gradients back to
/// the gathers as strided slices, and libtorch's index_add (the gathers' backward) is many times
/// slower on those than on contiguous rows.
/// </para>
/// </summary>
internal static class AttentionPooling
{
    /// <summary>Scores a_t [N] for q [B, E] (= its parts concatenated) and the key parts [N, d_p].</summary>
    public static Tensor Scores(Mlp unit, Tensor q, IReadOnlyList<Tensor> queryParts, IReadOnlyList<Tensor> keyParts, VarLenInputs history, bool training)
    {
        var e = q.shape[1];
        var first = unit.First;
        var w = first.Weight;
        Tensor Block(int block, long offset, long width) => w.narrow(1, block * e + offset, width);

        var s0 = nn.functional.linear(q, Block(0, 0, e) + Block(2, 0, e), first.Bias)   // [B, H]
            .index_select(0, history.Segment);                                         // [N, H]
        long o = 0;
        for (var p = 0; p < keyParts.Count; p++)
        {
            var k = keyParts[p];
            var d = k.shape[1];
            var qAtPosition = queryParts[p].index_select(0, history.Segment);            // [N, d]
            s0 = s0.addmm(k, (Block(1, o, d) - Block(2, o, d)).t())
                .addmm(qAtPosition * k, Block(3, o, d).t());
            o += d;
        }
        return unit.FromFirstPreActivation(s0, training).view(-1);
    }

    /// <summary>v [B, E] = sum over each sample's valid positions of weight_t * k_t, over the key parts.</summary>
    public static Tensor Pool(Tensor weights, IReadOnlyList<Tensor> keyParts, VarLenInputs history, int count)
    {
        var w = weights.unsqueeze(1);
        return Concat(keyParts.Select(k => SumPool(k * w, history, count)).ToList());
    }

    /// <summary>v [B, E] = sum of each sample's keys, over the key parts (the base preset).</summary>
    public static Tensor SumPool(IReadOnlyList<Tensor> keyParts, VarLenInputs history, int count) =>
        Concat(keyParts.Select(k => SumPool(k, history, count)).ToList());

    /// <summary>[B, d] = sum of each sample's rows of <paramref name="values"/> [N, d].</summary>
    public static Tensor SumPool(Tensor values, VarLenInputs history, int count) =>
        zeros([count, values.shape[1]], values.dtype).index_add(0, history.Segment, values, 1);

    /// <summary>
    /// Softmax of the scores over each sample's valid positions. The scores are laid on the
    /// batch's own [B, Width] grid, padding filled with a large negative value (exp gives exactly 0),
    /// and read back at the valid positions only. Finite fill keeps rows of length 0 NaN-free.
    /// </summary>
    public static Tensor MaskedSoftmax(Tensor scores, VarLenInputs history, int count)
    {
        var positions = history.GridPosition ?? throw new InvalidOperationException("the batch inputs were built without grid positions");
        var grid = full([count * (long)history.Width], -1e9, scores.dtype)
            .index_copy(0, positions, scores)
            .view(count, history.Width)
            .softmax(1);
        return grid.view(-1).index_select(0, positions);
    }

    public static Tensor Concat(IReadOnlyList<Tensor> parts) => parts.Count == 1 ? parts[0] : cat(parts.ToList(), 1);
}
