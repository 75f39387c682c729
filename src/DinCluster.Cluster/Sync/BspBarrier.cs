namespace DinCluster.Cluster.Sync;

/// <summary>
/// The coordinator's view of one BSP global step: every live worker reports either a computed
/// batch (gradients buffered at the PS shards and the dense parameters) or a skip (it had no
/// batch). When all have reported, the participants, in ascending worker order, are applied
/// as one update.
/// </summary>
public sealed class BspBarrier
{
    private readonly HashSet<int> _expected;
    private readonly SortedDictionary<int, (long BatchId, int Samples, double Loss)> _computed = [];
    private readonly HashSet<int> _skipped = [];

    public BspBarrier(long step, IEnumerable<int> workers)
    {
        Step = step;
        _expected = [.. workers];
    }

    public long Step { get; }

    public bool IsComplete => _expected.All(w => _computed.ContainsKey(w) || _skipped.Contains(w));

    public int[] Participants => [.. _computed.Keys];

    /// <summary>Batch sizes aligned with <see cref="Participants"/>.</summary>
    public int[] ParticipantSamples => [.. _computed.Values.Select(c => c.Samples)];

    public int Samples => _computed.Values.Sum(c => c.Samples);

    /// <summary>The global batch's mean loss: per-worker mean losses weighted by their samples.</summary>
    public double Loss => Samples == 0 ? double.NaN : _computed.Values.Sum(c => c.Loss * c.Samples) / Samples;

    public IReadOnlyList<long> BatchIds => _computed.Values.Select(c => c.BatchId).ToList();

    public void Computed(int worker, long batchId, int samples, double loss)
    {
        if (_expected.Contains(worker)) _computed[worker] = (batchId, samples, loss);
    }

    public void Skipped(int worker)
    {
        if (_expected.Contains(worker)) _skipped.Add(worker);
    }

    /// <summary>A dead worker is no longer waited for; what it pushed is not applied.</summary>
    public void Remove(int worker)
    {
        _expected.Remove(worker);
        _computed.Remove(worker);
        _skipped.Remove(worker);
    }
}
