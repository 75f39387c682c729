using DinCluster.Core.Batches;

namespace DinCluster.Cluster.Sync;

/// <summary>
/// BSP, on a PS shard or the dense parameters: the pushes of one global step, held until the
/// coordinator names the participants, then combined into the gradient of the global batch,
///   g = sum_w (n_w / N) g_w,   N = sum_w n_w,
/// summed in ascending worker order (fixed, so the result is deterministic). Each g_w is the
/// gradient of worker w's mean loss, so g is the gradient of the global batch's mean loss.
/// </summary>
public sealed class StepBuffer
{
    private readonly Dictionary<long, SortedDictionary<int, (TableRows[] Rows, int[][] Counts)>> _steps = [];

    public void Add(long step, int worker, TableRows[] rows, int[][] counts)
    {
        if (!_steps.TryGetValue(step, out var byWorker)) _steps[step] = byWorker = [];
        byWorker[worker] = (rows, counts);
    }

    /// <summary>
    /// The combined rows per table (ids in order of first appearance, workers ascending) with
    /// their occurrence counts summed over workers, and forgets the step. <paramref name="samples"/>[i] is worker <paramref name="workers"/>[i]'s
    /// batch size; a named worker without a push here had no rows on this shard.
    /// </summary>
    public IReadOnlyList<(TableRows Rows, int[] Counts)> Combine(long step, IReadOnlyList<int> workers, IReadOnlyList<int> samples)
    {
        if (!_steps.Remove(step, out var byWorker)) return [];
        var total = samples.Sum(n => (long)n);
        var tables = new List<(string Table, int Dim, List<long> Ids, Dictionary<long, float[]> Rows, Dictionary<long, int> Counts)>();
        foreach (var (w, n) in workers.Zip(samples).OrderBy(p => p.First))
        {
            if (!byWorker.TryGetValue(w, out var push)) continue;
            var scale = (float)((double)n / total);
            for (var i = 0; i < push.Rows.Length; i++)
            {
                var t = push.Rows[i];
                var acc = tables.FirstOrDefault(x => x.Table == t.Table);
                if (acc.Table is null) tables.Add(acc = (t.Table, t.Dim, [], [], []));
                for (var r = 0; r < t.Ids.Length; r++)
                {
                    if (!acc.Rows.TryGetValue(t.Ids[r], out var sum))
                    {
                        acc.Rows[t.Ids[r]] = sum = new float[t.Dim];
                        acc.Ids.Add(t.Ids[r]);
                    }
                    acc.Counts[t.Ids[r]] = acc.Counts.GetValueOrDefault(t.Ids[r]) + push.Counts[i][r];
                    var g = t.Row(r);
                    for (var k = 0; k < sum.Length; k++) sum[k] += scale * g[k];
                }
            }
        }
        return tables.Select(t =>
        {
            var values = new float[t.Ids.Count * t.Dim];
            for (var i = 0; i < t.Ids.Count; i++) t.Rows[t.Ids[i]].CopyTo(values, i * t.Dim);
            return (new TableRows(t.Table, t.Dim, [.. t.Ids], values), t.Ids.Select(id => t.Counts[id]).ToArray());
        }).ToList();
    }

    /// <summary>Dense gradients go through the same combination as one row of one pseudo-table.</summary>
    public void AddDense(long step, int worker, float[] gradient) =>
        Add(step, worker, [new TableRows("dense", gradient.Length, [0], gradient)], [[1]]);

    /// <summary>The combined dense gradient, or null when no participant pushed one.</summary>
    public float[]? CombineDense(long step, IReadOnlyList<int> workers, IReadOnlyList<int> samples) =>
        Combine(step, workers, samples) is [var only] ? only.Rows.Values : null;

    /// <summary>
    /// The batch id a BSP step's combined push is applied under: negative, so it never meets a
    /// data batch id in the shards' dedup memory.
    /// </summary>
    public static long BatchIdOf(long step) => -1 - step;

    /// <summary>Drops buffered steps older than <paramref name="step"/> (their participants died).</summary>
    public void DropBefore(long step)
    {
        foreach (var s in _steps.Keys.Where(s => s < step).ToList()) _steps.Remove(s);
    }
}
