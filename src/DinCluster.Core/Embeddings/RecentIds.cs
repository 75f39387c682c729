namespace DinCluster.Core.Embeddings;

/// <summary>The last N distinct batch ids (ring buffer + hash set), to ignore a re-delivered push.</summary>
internal sealed class RecentIds(int capacity)
{
    private readonly long[] _ring = new long[capacity];
    private readonly HashSet<long> _set = new(capacity);
    private int _next;

    public bool Contains(long id) => _set.Contains(id);

    /// <summary>Remembers <paramref name="id"/>, forgetting the oldest when full; an id already held is not added twice.</summary>
    public void Add(long id)
    {
        if (!_set.Add(id)) return;
        if (_set.Count > _ring.Length) _set.Remove(_ring[_next]);
        _ring[_next] = id;
        _next = (_next + 1) % _ring.Length;
    }

    /// <summary>The held ids, oldest first.</summary>
    public long[] OldestFirst()
    {
        var n = _set.Count;
        var result = new long[n];
        var start = n < _ring.Length ? 0 : _next;
        for (var k = 0; k < n; k++) result[k] = _ring[(start + k) % _ring.Length];
        return result;
    }
}
