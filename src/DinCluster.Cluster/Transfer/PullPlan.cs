using DinCluster.Cluster.Protocol;
using DinCluster.Core.Batches;
using DinCluster.Core.Routing;

namespace DinCluster.Cluster.Transfer;

/// <summary>
/// A worker's pull of one batch's rows: the unique ids of each table grouped by owning PS shard
/// and cut into requests under the message budget; replies (possibly several per request) are
/// scattered back so the result is aligned with <see cref="BatchIndex.UniqueIds"/>.
/// <code>
///   UniqueIds[t] = [a b c d]   router: a,c -> 0  b,d -> 1
///   requests: (shard 0, [a c]) (shard 1, [b d])   positions [0 2] / [1 3]
///   Rows[t].Values = rows of a b c d, in that order
/// </code>
/// </summary>
public sealed class PullPlan
{
    private readonly Dictionary<long, (int Table, int[] Positions, int Received)> _open = [];
    private readonly TableRows[] _rows;

    public PullPlan(
        BatchIndex index, IReadOnlyList<(string Name, int Dim)> tables, ShardRouter router,
        int maxMessageBytes, long firstRequestId)
    {
        _rows = new TableRows[tables.Count];
        var requests = new List<(int Shard, PullRows Request)>();
        var id = firstRequestId;
        for (var t = 0; t < tables.Count; t++)
        {
            var (name, dim) = tables[t];
            var ids = index.UniqueIds[t];
            _rows[t] = new TableRows(name, dim, ids, new float[ids.Length * dim]);
            var per = MessageBudget.RowsPerMessage(maxMessageBytes, dim);
            var split = router.Split(name, ids);
            for (var shard = 0; shard < split.ShardCount; shard++)
            {
                var positions = split.Positions(shard);
                if (positions.Length == 0) continue;
                foreach (var (start, count) in MessageBudget.Slices(positions.Length, per))
                {
                    requests.Add((shard, new PullRows(id, name, split.Ids(shard).AsSpan(start, count).ToArray())));
                    _open[id++] = (t, positions.AsSpan(start, count).ToArray(), 0);
                }
            }
        }
        Requests = requests;
        NextRequestId = id;
    }

    public IReadOnlyList<(int Shard, PullRows Request)> Requests { get; }

    /// <summary>The first request id not used by this plan.</summary>
    public long NextRequestId { get; }

    public bool IsComplete => _open.Count == 0;

    /// <summary>Rows per table aligned with the batch's unique ids; complete once <see cref="IsComplete"/>.</summary>
    public TableRows[] Rows => _rows;

    /// <summary>Takes one reply part; false when it belongs to no open request of this plan.</summary>
    public bool Accept(RowsPulled reply)
    {
        if (!_open.TryGetValue(reply.RequestId, out var open)) return false;
        var target = _rows[open.Table];
        var part = reply.Rows;
        if (part.Dim != target.Dim || reply.Offset < 0 || reply.Offset + part.Ids.Length > open.Positions.Length)
            throw new InvalidDataException($"pull {reply.RequestId} of '{target.Table}': reply part [{reply.Offset}, +{part.Ids.Length}) dim {part.Dim} does not fit the request");
        for (var k = 0; k < part.Ids.Length; k++)
            part.Row(k).CopyTo(target.Row(open.Positions[reply.Offset + k]));
        var received = open.Received + part.Ids.Length;
        if (received >= open.Positions.Length) _open.Remove(reply.RequestId);
        else _open[reply.RequestId] = open with { Received = received };
        return true;
    }
}
