using DinCluster.Cluster.Protocol;
using DinCluster.Core.Batches;

namespace DinCluster.Cluster.Transfer;

/// <summary>
/// PS side: collects the parts of each batch's push and hands out the whole push (rows merged
/// per table, in part order) when the last part arrives. A part sent again (a re-issued batch
/// recomputed by another worker) replaces the earlier one. Parts of a worker that died mid-push
/// stay until the batch is pushed again by the worker it is re-issued to.
/// </summary>
public sealed class PushAssembler
{
    private readonly Dictionary<long, PushGradients?[]> _partial = [];

    public int Open => _partial.Count;

    /// <summary>The complete push (rows and their occurrence counts per table), or null while parts are missing.</summary>
    public (TableRows[] Rows, int[][] Counts)? Add(PushGradients part)
    {
        if (part.Parts < 1 || part.Part < 0 || part.Part >= part.Parts || part.Counts.Length != part.Gradients.Length)
            throw new InvalidDataException($"push of batch {part.BatchId}: part {part.Part} of {part.Parts} with {part.Gradients.Length} tables and {part.Counts.Length} count arrays");
        if (part.Parts == 1) return (part.Gradients, part.Counts);
        if (!_partial.TryGetValue(part.BatchId, out var parts) || parts.Length != part.Parts)
            _partial[part.BatchId] = parts = new PushGradients?[part.Parts];
        parts[part.Part] = part;
        if (parts.Any(p => p is null)) return null;
        _partial.Remove(part.BatchId);
        return Merge(parts!);
    }

    /// <summary>The parts' rows merged per table (tables in order of first appearance, rows in part order), by block copies.</summary>
    private static (TableRows[] Rows, int[][] Counts) Merge(PushGradients?[] parts)
    {
        var tables = parts.SelectMany(p => p!.Gradients.Zip(p.Counts)).GroupBy(x => x.First.Table).ToArray();
        var rows = new TableRows[tables.Length];
        var counts = new int[tables.Length][];
        for (var t = 0; t < tables.Length; t++)
        {
            var dim = tables[t].First().First.Dim;
            var n = tables[t].Sum(x => x.First.Ids.Length);
            var (ids, values, occurrences) = (new long[n], new float[n * dim], new int[n]);
            var at = 0;
            foreach (var (g, c) in tables[t])
            {
                if (g.Dim != dim || g.Values.Length != g.Ids.Length * dim || c.Length != g.Ids.Length)
                    throw new InvalidDataException($"push part of table '{g.Table}': {g.Ids.Length} ids, {g.Values.Length} values of dim {g.Dim} (table dim {dim}), {c.Length} counts");
                g.Ids.CopyTo(ids, at);
                g.Values.CopyTo(values, at * dim);
                c.CopyTo(occurrences, at);
                at += g.Ids.Length;
            }
            rows[t] = new TableRows(tables[t].Key, dim, ids, values);
            counts[t] = occurrences;
        }
        return (rows, counts);
    }
}
