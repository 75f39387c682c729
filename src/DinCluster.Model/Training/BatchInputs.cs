using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using static TorchSharp.torch;

namespace DinCluster.Model.Training;

/// <summary>
/// The index tensors of one batch. Every row the forward reads from a row group (see
/// <see cref="RowGroups"/>) is fetched by one gather per group, split into pieces:
/// <code>
///   group tensor  [ user rows | item rows | category rows ]      table t starts at RowOffset[t]
///   GatherIndex   [ user_id slots | q slots | k slots ]          -> index_select -> split(PieceSizes)
///   q slots       [i0 c0 i1 c1 ...]   the pairs' slots interleaved: the [2B, 64] piece viewed as
///   k slots       [a1 x1 a2 x2 ...]   [B, 128] is q = [e(item), e(category)] already concatenated
/// </code>
/// One gather per group means one index_add per group in the backward: separate gathers of one
/// leaf each allocate and sum a gradient the size of the whole group, and concatenating separate
/// gathers hands them strided gradients, on which index_add is several times slower.
/// Histories stay packed as in <see cref="Batch.Values"/> (no padding): position n of a varlen
/// feature belongs to sample Segment[n]. Built inside the caller's dispose scope.
/// </summary>
internal sealed class BatchInputs
{
    public required int Count { get; init; }
    public required int[] TableRows { get; init; }
    public required int[] RowOffset { get; init; }
    public required int[] GroupRows { get; init; }

    /// <summary>Per group: the rows to gather (null when none) and the sizes of the pieces, in rows.</summary>
    public required (Tensor? Index, long[] Sizes)[] Gathers { get; init; }

    /// <summary>(group, piece) of each sparse feature's embedding; (-1, -1) for pair queries when <see cref="PairQuery"/> holds them.</summary>
    public required (int Group, int Piece)[] SparsePiece { get; init; }

    /// <summary>(group, piece) of each varlen feature's rows; (-1, -1) for pair histories when <see cref="PairKeys"/> holds them.</summary>
    public required (int Group, int Piece)[] VarLenPiece { get; init; }

    /// <summary>Piece of q, interleaved (view as [B, E]); (-1, -1) when the pairs' tables differ in width.</summary>
    public required (int Group, int Piece) PairQuery { get; init; }

    /// <summary>Piece of the keys, interleaved (view as [N, E]); (-1, -1) when the pairs' tables differ in width.</summary>
    public required (int Group, int Piece) PairKeys { get; init; }

    public required VarLenInputs[] VarLen { get; init; }
    public required Tensor[] Dense { get; init; }
    public required Tensor Labels { get; init; }

    /// <param name="withGrid">Build GridPosition too (only the masked softmax needs it).</param>
    public static BatchInputs Build(Batch batch, BatchIndex index, FeatureSchema schema, RowGroups groups, ScalarType dtype, bool withGrid)
    {
        var tables = schema.Tables.Count;
        var tableRows = index.UniqueIds.Select(u => u.Length).ToArray();
        var rowOffset = new int[tables];
        var groupRows = new int[groups.GroupDim.Length];
        for (var t = 0; t < tables; t++)
        {
            rowOffset[t] = groupRows[groups.TableGroup[t]];
            groupRows[groups.TableGroup[t]] += tableRows[t];
        }
        int Table(string table) => schema.TableIndex(table);

        var pieces = Enumerable.Range(0, groups.GroupDim.Length).Select(_ => new List<long[]>()).ToArray();
        (int, int) Add(int group, long[] slots)
        {
            pieces[group].Add(slots);
            return (group, pieces[group].Count - 1);
        }
        long[] Slots(int[] slots, int table, int stride = 1, int lane = 0, long[]? into = null)
        {
            into ??= new long[slots.Length];
            var offset = rowOffset[table];
            for (var i = 0; i < slots.Length; i++) into[i * stride + lane] = slots[i] + offset;
            return into;
        }
        long[] Interleave(IReadOnlyList<(int[] Slots, int Table)> parts)
        {
            var into = new long[parts[0].Slots.Length * parts.Count];
            for (var p = 0; p < parts.Count; p++) Slots(parts[p].Slots, parts[p].Table, parts.Count, p, into);
            return into;
        }

        var interleave = groups.PairGroup >= 0;
        var pairQueries = schema.HistoryPairs.Select(p => schema.SparseIndex(p.Query)).ToHashSet();
        var pairHistories = schema.HistoryPairs.Select(p => schema.VarLenIndex(p.History)).ToHashSet();
        var sparsePiece = new (int, int)[schema.Sparse.Count];
        for (var f = 0; f < sparsePiece.Length; f++)
        {
            var t = Table(schema.Sparse[f].Table);
            sparsePiece[f] = interleave && pairQueries.Contains(f) ? (-1, -1) : Add(groups.TableGroup[t], Slots(index.SparseSlots[f], t));
        }
        var varLenPiece = new (int, int)[schema.VarLen.Count];
        for (var v = 0; v < varLenPiece.Length; v++)
        {
            var t = Table(schema.VarLen[v].Table);
            varLenPiece[v] = interleave && pairHistories.Contains(v) ? (-1, -1) : Add(groups.TableGroup[t], Slots(index.VarLenSlots[v], t));
        }
        (int, int) pairQuery = (-1, -1), pairKeys = (-1, -1);
        if (interleave)
        {
            pairQuery = Add(groups.PairGroup, Interleave(schema.HistoryPairs
                .Select(p => (index.SparseSlots[schema.SparseIndex(p.Query)], Table(schema.Sparse[schema.SparseIndex(p.Query)].Table))).ToList()));
            pairKeys = Add(groups.PairGroup, Interleave(schema.HistoryPairs
                .Select(p => (index.VarLenSlots[schema.VarLenIndex(p.History)], Table(schema.VarLen[schema.VarLenIndex(p.History)].Table))).ToList()));
        }

        // Paired histories have equal lengths: they share one Segment (and grid).
        var varLen = new VarLenInputs[schema.VarLen.Count];
        VarLenInputs? firstPair = null;
        for (var v = 0; v < varLen.Length; v++)
        {
            var paired = pairHistories.Contains(v);
            varLen[v] = paired && firstPair is not null ? firstPair : VarLenInputs.Build(batch.Lengths[v], withGrid);
            if (paired) firstPair ??= varLen[v];
        }

        return new BatchInputs
        {
            Count = batch.Count,
            TableRows = tableRows,
            RowOffset = rowOffset,
            GroupRows = groupRows,
            Gathers = pieces.Select(list => (
                list.Count == 0 ? null : TensorData.FromLongs(list),
                list.Select(p => (long)p.Length).ToArray())).ToArray(),
            SparsePiece = sparsePiece,
            VarLenPiece = varLenPiece,
            PairQuery = pairQuery,
            PairKeys = pairKeys,
            VarLen = varLen,
            Dense = schema.Dense.Select((d, f) => TensorData.FromFloats(batch.Dense[f], [batch.Count, d.Dimension], dtype)).ToArray(),
            Labels = TensorData.FromFloats(batch.Labels, [batch.Count], dtype),
        };
    }
}

/// <summary>Positions of one varlen feature of a batch, packed; see <see cref="BatchInputs"/>.
/// <code>
///   Lengths      [2, 0, 3]
///   Segment      [0  0  | 2  2  2 ]     sample of each position
///   GridPosition [0  1  | 6  7  8 ]     b * Width + t, Width = longest history in this batch (3)
/// </code>
/// </summary>
internal sealed class VarLenInputs
{
    /// <summary>Valid positions in the batch (sum of lengths).</summary>
    public required int Positions { get; init; }
    public required int Width { get; init; }
    public required Tensor Segment { get; init; }
    public required Tensor? GridPosition { get; init; }

    public static VarLenInputs Build(int[] lengths, bool withGrid)
    {
        var positions = lengths.Sum();
        var segment = new long[positions];
        var grid = withGrid ? new long[positions] : null;
        var width = lengths.Length == 0 ? 0 : lengths.Max();
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
            Segment = TensorData.FromLongs(segment),
            GridPosition = grid is null ? null : TensorData.FromLongs(grid),
        };
    }
}
