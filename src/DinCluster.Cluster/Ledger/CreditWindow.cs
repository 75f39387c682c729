namespace DinCluster.Cluster.Ledger;

/// <summary>
/// Outstanding batch requests per worker. A worker that asked for n batches is given at most n;
/// workers with credit are served round-robin so one fast requester cannot take everything.
/// </summary>
public sealed class CreditWindow
{
    private readonly SortedDictionary<int, int> _credit = [];
    private int _last = -1;

    public void Grant(int worker, int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "a request is for >= 0 batches");
        _credit[worker] = Credit(worker) + count;
    }

    public int Credit(int worker) => _credit.GetValueOrDefault(worker);

    public bool HasCredit => _credit.Values.Any(c => c > 0);

    /// <summary>Batches requested by all workers and not yet served.</summary>
    public int Outstanding => _credit.Values.Sum();

    /// <summary>Takes one unit of credit from the next worker after the last one served.</summary>
    public bool TryTake(out int worker)
    {
        foreach (var candidates in new[] { _credit.Keys.Where(w => w > _last), _credit.Keys.Where(w => w <= _last) })
            foreach (var w in candidates)
                if (_credit[w] > 0)
                {
                    _credit[w]--;
                    _last = worker = w;
                    return true;
                }
        worker = -1;
        return false;
    }

    /// <summary>Forgets a worker (it died); its credit goes with it.</summary>
    public void Remove(int worker) => _credit.Remove(worker);
}
