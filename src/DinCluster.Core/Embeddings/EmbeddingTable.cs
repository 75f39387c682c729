using DinCluster.Core.Optimizers;
using DinCluster.Core.Routing;

namespace DinCluster.Core.Embeddings;

/// <summary>Per-row bookkeeping, 32 bytes, in a slab beside the weights.</summary>
internal struct RowMeta
{
    public long Id;

    /// <summary>Table step of the last push; <see cref="EmbeddingTable.FreeRow"/> marks a row on the free list.</summary>
    public long LastStep;

    /// <summary>n_j: occurrences pushed so far (saturating).</summary>
    public int Count;

    /// <summary>Pushes applied (Adam's per-row t).</summary>
    public int Updates;

    /// <summary>Neighbours in the recency list (only kept when a TTL is set); -1 ends it.</summary>
    public int Prev;
    public int Next;
}

/// <summary>
/// One embedding table of one shard:
/// <code>
///   id --LongIntMap--> row r ---> weights.Row(r)   dim floats
///                             \-> slots[s].Row(r)  dim floats per optimizer slot
///                             \-> meta.At(r)       id, count, updates, last step, recency links
/// </code>
/// Rows freed by eviction go on a free list and are reused before the slabs grow.
/// Single-threaded: the owning actor serializes calls.
/// </summary>
internal sealed class EmbeddingTable
{
    public const long FreeRow = -1;

    private readonly ISparseOptimizer _optimizer;
    private readonly long _seed;
    private readonly float _initScale;
    private readonly float _mbaLambda;
    private readonly int _minCount;
    private readonly long _ttl;
    private readonly int _rowCap;
    private readonly LongIntMap _index = new();
    private readonly ChunkedRows<float> _weights;
    private readonly ChunkedRows<float>[] _slots;
    private readonly ChunkedRows<RowMeta> _meta = new(1);
    private readonly Stack<int> _free = new();
    private readonly float[] _regularized;
    private int _used;
    private int _lruHead = -1;
    private int _lruTail = -1;
    private long _admitted, _evictedTtl, _evictedCap, _notAdmitted, _applied, _duplicates, _nonFinite;

    public EmbeddingTable(string name, int dim, EmbeddingSettings settings)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), $"table '{name}' has dim {dim}, must be > 0");
        Name = name;
        Dim = dim;
        Key = StableHash.OfName(name);
        _optimizer = settings.Optimizer.Create();
        _seed = settings.Seed;
        _initScale = settings.InitScale;
        _mbaLambda = settings.MbaLambda;
        _minCount = settings.MinCount;
        _ttl = settings.TtlSteps;
        _rowCap = settings.RowCapOf(name);
        _weights = new ChunkedRows<float>(dim);
        _slots = new ChunkedRows<float>[_optimizer.SlotCount];
        for (var s = 0; s < _slots.Length; s++) _slots[s] = new ChunkedRows<float>(dim);
        _regularized = new float[dim];
        Sketch = _minCount > 1 ? new CountMinSketch(settings.AdmissionSketchWidth) : null;
        Recent = new RecentIds(settings.DedupWindow);
    }

    public string Name { get; }
    public int Dim { get; }
    public ulong Key { get; }
    public int SlotCount => _slots.Length;
    public SparseOptimizerKind OptimizerKind => _optimizer.Settings.Kind;
    public int Rows => _index.Count;

    /// <summary>The table's step: pushes applied, or the largest step number a push carried.</summary>
    public long Clock { get; set; }

    public CountMinSketch? Sketch { get; }
    public RecentIds Recent { get; }

    public void Pull(ReadOnlySpan<long> ids, Span<float> dest)
    {
        if (dest.Length != ids.Length * Dim) throw new ArgumentException($"table '{Name}': pull of {ids.Length} ids needs {ids.Length * Dim} floats, got {dest.Length}");
        for (var i = 0; i < ids.Length; i++)
        {
            var row = _index.Get(ids[i]);
            var d = dest.Slice(i * Dim, Dim);
            if (row >= 0) _weights.Row(row).CopyTo(d);
            else EmbeddingInit.Fill(Key, ids[i], _seed, _initScale, d);
        }
    }

    public PushResult Push(ReadOnlySpan<long> ids, ReadOnlySpan<float> grads, long batchId, ReadOnlySpan<int> counts, long step)
    {
        if (grads.Length != ids.Length * Dim) throw new ArgumentException($"table '{Name}': push of {ids.Length} ids needs {ids.Length * Dim} gradient floats, got {grads.Length}");
        if (!counts.IsEmpty && counts.Length != ids.Length) throw new ArgumentException($"table '{Name}': push of {ids.Length} ids has {counts.Length} counts");
        foreach (var c in counts)
            if (c < 1) throw new ArgumentException($"table '{Name}': occurrence count {c} in a push, must be >= 1");

        if (Recent.Contains(batchId))
        {
            _duplicates++;
            return PushResult.Duplicate;
        }
        if (!Finite.All(grads)) return RecordNonFinite();
        Recent.Add(batchId);
        Clock = step >= 0 ? Math.Max(Clock, step) : Clock + 1;
        _applied++;

        int updated = 0, created = 0, dropped = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i];
            var occurrences = counts.IsEmpty ? 1 : counts[i];
            var row = _index.Get(id);
            int n;
            if (row >= 0)
            {
                n = (int)Math.Min(int.MaxValue, (long)_meta.At(row).Count + occurrences);
            }
            else
            {
                n = Sketch?.Add(id, occurrences) ?? occurrences;
                if (n < _minCount)
                {
                    dropped++;
                    continue;
                }
                row = CreateRow(id);
                created++;
            }
            ref var meta = ref _meta.At(row);
            meta.Count = n;
            meta.Updates++;
            meta.LastStep = Clock;
            if (_ttl > 0) MoveToTail(row);

            var weights = _weights.Row(row);
            var grad = grads.Slice(i * Dim, Dim);
            if (_mbaLambda > 0)
            {
                // Mini-batch aware regularization (DIN paper, eq. 4-5): L2 only on the rows of this
                // mini-batch, scaled down for frequent ids,
                //   w_j <- w_j - eta * (g_j + lambda * (alpha_mj / n_j) * w_j),  alpha_mj = 1 (j is pushed),
                // with n_j the occurrences of id j pushed so far, this batch included. Added to the
                // gradient, so the penalty goes through the same optimizer (plain SGD gives eq. 5).
                var k = _mbaLambda / n;
                for (var d = 0; d < Dim; d++) _regularized[d] = grad[d] + k * weights[d];
                grad = _regularized;
            }
            _optimizer.Update(weights, SlotRow(0, row), SlotRow(1, row), grad, meta.Updates);
            updated++;
        }
        _notAdmitted += dropped;
        EvictStale();
        EvictOverCap();
        return new PushResult(PushStatus.Applied, updated, created, dropped);
    }

    public PushResult RecordNonFinite()
    {
        _nonFinite++;
        return PushResult.NonFinite;
    }

    private Span<float> SlotRow(int slot, int row) => slot < _slots.Length ? _slots[slot].Row(row) : [];

    private int AllocateRow(long id, long lastStep, int count, int updates)
    {
        int row;
        if (_free.Count > 0)
        {
            row = _free.Pop();
        }
        else
        {
            row = _used++;
            _weights.EnsureCapacity(_used);
            foreach (var s in _slots) s.EnsureCapacity(_used);
            _meta.EnsureCapacity(_used);
        }
        _meta.At(row) = new RowMeta { Id = id, LastStep = lastStep, Count = count, Updates = updates, Prev = -1, Next = -1 };
        _index.Add(id, row);
        return row;
    }

    private int CreateRow(long id)
    {
        var row = AllocateRow(id, Clock, 0, 0);
        EmbeddingInit.Fill(Key, id, _seed, _initScale, _weights.Row(row));
        for (var s = 0; s < _slots.Length; s++) _slots[s].Row(row).Fill(_optimizer.SlotInitialValue(s));
        if (_ttl > 0) Append(row);
        _admitted++;
        return row;
    }

    /// <summary>Puts back a row read from a snapshot. Call <see cref="FinishRestore"/> after the last one.</summary>
    public void RestoreRow(long id, int count, int updates, long lastStep, ReadOnlySpan<float> weightsAndSlots)
    {
        if (_index.Get(id) >= 0) throw new InvalidDataException($"table '{Name}': id {id} appears twice in the snapshots");
        var row = AllocateRow(id, lastStep, count, updates);
        weightsAndSlots[..Dim].CopyTo(_weights.Row(row));
        for (var s = 0; s < _slots.Length; s++) weightsAndSlots.Slice((s + 1) * Dim, Dim).CopyTo(_slots[s].Row(row));
    }

    /// <summary>Rebuilds the recency list in last-step order (ties by id, so it does not depend on file order).</summary>
    public void FinishRestore()
    {
        if (_ttl <= 0) return;
        var rows = LiveRows().ToArray();
        Array.Sort(rows, (a, b) =>
        {
            ref var ma = ref _meta.At(a);
            ref var mb = ref _meta.At(b);
            var c = ma.LastStep.CompareTo(mb.LastStep);
            return c != 0 ? c : ma.Id.CompareTo(mb.Id);
        });
        foreach (var r in rows) Append(r);
    }

    public IEnumerable<int> LiveRows()
    {
        for (var r = 0; r < _used; r++)
            if (_meta.At(r).LastStep != FreeRow) yield return r;
    }

    public RowMeta Meta(int row) => _meta.At(row);
    public Span<float> WeightsRow(int row) => _weights.Row(row);
    public Span<float> Slot(int slot, int row) => _slots[slot].Row(row);
    public int RowOf(long id) => _index.Get(id);

    private void Append(int row)
    {
        ref var m = ref _meta.At(row);
        m.Prev = _lruTail;
        m.Next = -1;
        if (_lruTail >= 0) _meta.At(_lruTail).Next = row;
        else _lruHead = row;
        _lruTail = row;
    }

    private void Unlink(int row)
    {
        ref var m = ref _meta.At(row);
        if (m.Prev >= 0) _meta.At(m.Prev).Next = m.Next;
        else _lruHead = m.Next;
        if (m.Next >= 0) _meta.At(m.Next).Prev = m.Prev;
        else _lruTail = m.Prev;
    }

    private void MoveToTail(int row)
    {
        if (row == _lruTail) return;
        Unlink(row);
        Append(row);
    }

    private void Evict(int row)
    {
        ref var m = ref _meta.At(row);
        _index.Remove(m.Id);
        if (_ttl > 0) Unlink(row);
        m.LastStep = FreeRow;
        _free.Push(row);
    }

    // The recency list is in last-step order, so stale rows are at its head.
    private void EvictStale()
    {
        while (_ttl > 0 && _lruHead >= 0 && Clock - _meta.At(_lruHead).LastStep > _ttl)
        {
            Evict(_lruHead);
            _evictedTtl++;
        }
    }

    /// <summary>
    /// Past the cap, evicts the least frequent rows (lowest n_j; among equal counts the least
    /// recently pushed) down to cap - cap/20, so the O(rows) scan is paid once per cap/20 new rows.
    /// Counts are bucketed up to 65535 (a histogram finds the threshold in one pass).
    /// </summary>
    private void EvictOverCap()
    {
        if (_rowCap <= 0 || _index.Count <= _rowCap) return;
        var toEvict = _index.Count - (_rowCap - _rowCap / 20);
        const int Buckets = 1 << 16;
        static int Bucket(int count) => Math.Min(count, Buckets - 1);

        var histogram = new int[Buckets];
        foreach (var r in LiveRows()) histogram[Bucket(_meta.At(r).Count)]++;
        var threshold = 0;
        var below = 0;
        while (below + histogram[threshold] < toEvict) below += histogram[threshold++];

        var tieSteps = new long[histogram[threshold]];
        var tieRows = new int[tieSteps.Length];
        var ties = 0;
        foreach (var r in LiveRows())
        {
            var b = Bucket(_meta.At(r).Count);
            if (b < threshold)
            {
                Evict(r);
            }
            else if (b == threshold)
            {
                tieSteps[ties] = _meta.At(r).LastStep;
                tieRows[ties++] = r;
            }
        }
        Array.Sort(tieSteps, tieRows);
        for (var k = 0; k < toEvict - below; k++) Evict(tieRows[k]);
        _evictedCap += toEvict;
    }

    public long Bytes => _index.Bytes + _weights.Bytes + _slots.Sum(s => s.Bytes) + _meta.Bytes + (Sketch?.Bytes ?? 0);

    public TableStats Stats() => new(Name, Dim, Rows, Bytes, _admitted, _evictedTtl, _evictedCap, _notAdmitted, _applied, _duplicates, _nonFinite);
}
