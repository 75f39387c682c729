namespace DinCluster.Cluster.Ledger;

/// <summary>
/// The issued/acked book of one epoch on one data shard. A batch is pending, then in flight at
/// one worker, then consumed (acked). A worker that dies returns its in-flight batches to the
/// front of the pending queue; their samples count as replayed, and the first ack of a batch is
/// the only one that counts, so every sample of the epoch is consumed exactly once.
/// <code>
///   pending --Issue--> in flight(worker) --Ack--> consumed
///      ^                     |
///      +----ReleaseWorker----+   (replayed += samples)
/// </code>
/// </summary>
public sealed class RowGroupLedger
{
    private readonly Dictionary<long, BatchTicket> _tickets;
    private readonly LinkedList<BatchTicket> _pending;
    private readonly Dictionary<long, int> _inFlight = [];
    private readonly HashSet<long> _consumed = [];
    private readonly Dictionary<long, int> _shortfall = [];

    public RowGroupLedger(int epoch, IReadOnlyList<BatchTicket> tickets)
    {
        Epoch = epoch;
        _tickets = tickets.ToDictionary(t => t.BatchId);
        _pending = new LinkedList<BatchTicket>(tickets);
        SamplesExpected = tickets.Sum(t => (long)t.Count);
    }

    public int Epoch { get; }
    public long SamplesExpected { get; }
    public long SamplesConsumed { get; private set; }
    public long SamplesReplayed { get; private set; }
    /// <summary>Rows of the epoch's batches that the reader skipped as bad input.</summary>
    public long SamplesSkipped => _shortfall.Values.Sum(v => (long)v);
    public long BatchesReplayed { get; private set; }
    public long DuplicateAcks { get; private set; }
    public int Pending => _pending.Count;
    public int InFlight => _inFlight.Count;
    public int Batches => _tickets.Count;
    public bool IsComplete => _consumed.Count == _tickets.Count;

    /// <summary>Complete, and the samples acked plus those skipped add up to exactly the epoch's samples.</summary>
    public bool IsExact => IsComplete && SamplesConsumed + SamplesSkipped == SamplesExpected;

    /// <summary>The next batch for <paramref name="worker"/>, re-issues first; null when nothing is pending.</summary>
    public BatchTicket? Issue(int worker)
    {
        var first = _pending.First;
        if (first is null) return null;
        _pending.RemoveFirst();
        _inFlight[first.Value.BatchId] = worker;
        return first.Value;
    }

    public AckOutcome Ack(long batchId)
    {
        if (!_tickets.TryGetValue(batchId, out var ticket)) return AckOutcome.Unknown;
        if (!_consumed.Add(batchId))
        {
            DuplicateAcks++;
            return AckOutcome.Duplicate;
        }
        // A late ack of a batch that was already returned to pending still consumes it.
        if (!_inFlight.Remove(batchId)) _pending.Remove(ticket);
        SamplesConsumed += ticket.Count - _shortfall.GetValueOrDefault(batchId);
        return AckOutcome.Consumed;
    }

    /// <summary>
    /// Resume / rollback: the batches of <paramref name="batchIds"/> are consumed already (their
    /// gradients are in the checkpoint restored); they leave the pending queue. Returns how many.
    /// </summary>
    public int RestoreConsumed(IEnumerable<long> batchIds)
    {
        var n = 0;
        foreach (var id in batchIds)
        {
            if (!_tickets.TryGetValue(id, out var ticket))
                throw new ArgumentException($"batch {id} is not a batch of epoch {Epoch} on this shard; the checkpoint was written with another data layout", nameof(batchIds));
            if (!_consumed.Add(id)) continue;
            _pending.Remove(ticket);
            SamplesConsumed += ticket.Count;
            n++;
        }
        return n;
    }

    /// <summary>
    /// Coordinator takeover: the batches this ledger saw acked that are not in <paramref name="kept"/>
    /// (those the restored checkpoint holds), and their samples: work done under the lost coordinator
    /// that is trained again.
    /// </summary>
    public (int Batches, long Samples) ConsumedExcept(IReadOnlyCollection<long> kept)
    {
        var keep = kept as IReadOnlySet<long> ?? kept.ToHashSet();
        var batches = 0;
        var samples = 0L;
        foreach (var id in _consumed)
        {
            if (keep.Contains(id)) continue;
            batches++;
            samples += _tickets[id].Count - _shortfall.GetValueOrDefault(id);
        }
        return (batches, samples);
    }

    /// <summary>
    /// The batch holds only <paramref name="available"/> good rows (the reader skipped bad ones);
    /// recorded once per batch, so a re-issue does not count the skip twice.
    /// </summary>
    public void RecordShortfall(long batchId, int available)
    {
        var ticket = _tickets[batchId];
        if (available < 0 || available > ticket.Count) throw new ArgumentOutOfRangeException(nameof(available), available, $"batch {batchId} has {ticket.Count} rows");
        if (available < ticket.Count) _shortfall[batchId] = ticket.Count - available;
    }

    /// <summary>Returns the in-flight batches of a dead worker to the front of the queue, in batch order.</summary>
    public int ReleaseWorker(int worker)
    {
        var released = _inFlight.Where(kv => kv.Value == worker).Select(kv => _tickets[kv.Key]).OrderByDescending(t => t.BatchId).ToList();
        foreach (var t in released)
        {
            _inFlight.Remove(t.BatchId);
            _pending.AddFirst(t);
            SamplesReplayed += t.Count;
            BatchesReplayed++;
        }
        return released.Count;
    }
}

public enum AckOutcome
{
    Consumed,
    /// <summary>Acked before; ignored (a re-issued batch acked twice).</summary>
    Duplicate,
    /// <summary>Not a batch of this epoch on this shard (e.g. a late ack from the previous epoch).</summary>
    Unknown,
}
