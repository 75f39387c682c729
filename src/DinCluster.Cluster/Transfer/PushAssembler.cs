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
        var merged = parts.SelectMany(p => p!.Gradients.Zip(p.Counts)).GroupBy(x => x.First.Table).ToList();
        return (
            merged.Select(g => new TableRows(g.Key, g.First().First.Dim, g.SelectMany(x => x.First.Ids).ToArray(), g.SelectMany(x => x.First.Values).ToArray())).ToArray(),
            merged.Select(g => g.SelectMany(x => x.Second).ToArray()).ToArray());
    }
}
