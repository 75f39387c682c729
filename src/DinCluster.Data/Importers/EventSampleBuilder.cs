using DinCluster.Core.Routing;

namespace DinCluster.Data.Importers;

/// <summary>
/// Turns event logs into samples, one partition (a set of whole users) at a time: the protocol shared by
/// `import csv`, `import movielens` and `import amazon`.
/// <code>
///   a user's events sorted by (timestamp, item, line):   e0   e1   e2   e3   e4
///   label (1 = positive)                                  1    0    1    1    0
///   history of the sample made from e3 (oldest first):  [e0.item, e2.item]     positives before e3 only,
///                                                                                the most recent MaxHistory
/// </code>
/// With <see cref="FirstEventIsHistoryOnly"/> (Amazon) a user's first event makes no sample (DIN's
/// build_dataset.py starts at i = 1). With a <see cref="NegativeSampler"/>, every sample-making event also
/// makes a negative: same user, history and timestamp, a random item the user never had, label 0.
/// The split decides per event; a negative follows its positive. Train rows are written in a seeded random
/// order (per partition), test rows in (user, time) order.
/// </summary>
internal sealed class EventSampleBuilder(ImportRun run)
{
    private long[] _posItems = [];
    private long[] _posCategories = [];
    private int[] _histStart = [];
    private int[] _histEnd = [];
    private byte[] _test = [];        // 0 none, 1 train, 2 test
    private long[] _negItems = [];
    private long[] _negCategories = [];
    private int[] _units = [];
    private int _chunk;

    public bool FirstEventIsHistoryOnly { get; init; }
    public NegativeSampler? Negatives { get; init; }

    public long Users { get; private set; }
    public long TrainUsers { get; private set; }
    public long TestUsers { get; private set; }
    public long Truncated { get; private set; }

    public void Build(SpillChunk<EventRecord> chunk)
    {
        var n = chunk.Count;
        var ev = chunk.Records;
        Array.Sort(ev, 0, n, EventOrder.Instance);
        Grow(ref _posItems, n);
        Grow(ref _posCategories, n);
        Grow(ref _histStart, n);
        Grow(ref _histEnd, n);
        Grow(ref _test, n);
        if (Negatives is not null)
        {
            Grow(ref _negItems, n);
            Grow(ref _negCategories, n);
        }

        var positives = 0;
        for (var a = 0; a < n;)
        {
            var b = a + 1;
            while (b < n && ev[b].User == ev[a].User) b++;
            Users++;
            var userStart = positives;
            for (var j = a; j < b; j++)
            {
                _histStart[j] = userStart;
                _histEnd[j] = positives;
                if (ev[j].Label == 1)
                {
                    _posItems[positives] = ev[j].Item;
                    _posCategories[positives] = ev[j].Category;
                    positives++;
                }
            }
            var first = FirstEventIsHistoryOnly ? a + 1 : a;
            AssignSplit(ev, a, first, b);
            Negatives?.Draw(ev, first, a, b, _negItems, _negCategories, _test);
            a = b;
        }

        Emit(ev, n, run.Test, test: true, shuffle: false);
        Emit(ev, n, run.Train, test: false, shuffle: run.Options.Shuffle);
        _chunk++;
    }

    private void AssignSplit(EventRecord[] ev, int a, int first, int b)
    {
        for (var j = a; j < first; j++) _test[j] = 0;
        bool anyTrain = false, anyTest = false;
        var split = run.Split;
        var userIsTest = split is SplitSpec.Users u && SplitSpec.IsTestUser(ev[a].User, run.Options.Seed, u.Fraction);
        for (var j = first; j < b; j++)
        {
            var test = split switch
            {
                SplitSpec.LastPerUser last => j >= b - last.Count,
                SplitSpec.Users => userIsTest,
                SplitSpec.Time t => ev[j].Timestamp >= t.From,
                _ => throw new InvalidOperationException($"unknown split {split}"),
            };
            _test[j] = test ? (byte)2 : (byte)1;
            anyTest |= test;
            anyTrain |= !test;
        }
        if (anyTrain) TrainUsers++;
        if (anyTest) TestUsers++;
    }

    /// <summary>Writes the units (event j, positive or negative) of one side.</summary>
    private void Emit(EventRecord[] ev, int n, SplitSink sink, bool test, bool shuffle)
    {
        var side = test ? (byte)2 : (byte)1;
        var withNegatives = Negatives is not null;
        var count = 0;
        Grow(ref _units, withNegatives ? 2 * n : n);
        for (var j = 0; j < n; j++)
        {
            if (_test[j] != side) continue;
            _units[count++] = withNegatives ? 2 * j : j;
            if (withNegatives && _negItems[j] != NegativeSampler.None) _units[count++] = 2 * j + 1;
        }
        if (shuffle)
        {
            var rng = new Xoshiro256(StableHash.SplitMix64(run.Options.Seed ^ StableHash.Fmix64((ulong)_chunk + 1)));
            for (var i = count - 1; i > 0; i--)
            {
                var k = rng.Next(i + 1);
                (_units[i], _units[k]) = (_units[k], _units[i]);
            }
        }

        var max = run.MaxHistory;
        for (var u = 0; u < count; u++)
        {
            var unit = _units[u];
            var j = withNegatives ? unit >> 1 : unit;
            var negative = withNegatives && (unit & 1) == 1;
            var e = ev[j];
            var start = _histStart[j];
            var end = _histEnd[j];
            if (end - start > max)
            {
                start = end - max;
                Truncated++;
            }
            var items = _posItems.AsSpan(start, end - start);
            var categories = _posCategories.AsSpan(start, end - start);
            if (negative) sink.Write(e.User, _negItems[j], _negCategories[j], items, categories, 0, e.Timestamp);
            else sink.Write(e.User, e.Item, e.Category, items, categories, e.Label, e.Timestamp);
        }
    }

    private static void Grow<T>(ref T[] buffer, int n)
    {
        if (buffer.Length < n) buffer = new T[Math.Max(n, buffer.Length + buffer.Length / 2)];
    }
}

/// <summary>
/// DIN's Amazon negatives: for each positive, one item drawn uniformly from <paramref name="pool"/> (every
/// item with metadata that someone reviewed, ascending id) that the user never reviewed, redrawn until so.
/// Each user has its own generator seeded by (seed, user), so the draws do not depend on partitioning.
/// </summary>
internal sealed class NegativeSampler(long[] pool, Dictionary<long, long> categoryOf, ulong seed)
{
    /// <summary>Marks "no negative": the user reviewed every item of the pool.</summary>
    public const long None = long.MinValue;

    private readonly HashSet<long> _userItems = [];

    public long Sampled { get; private set; }
    public long UsersWithoutNegatives { get; private set; }

    public void Draw(EventRecord[] ev, int first, int a, int b, long[] negItems, long[] negCategories, byte[] split)
    {
        _userItems.Clear();
        for (var j = a; j < b; j++) _userItems.Add(ev[j].Item);
        if (_userItems.Count >= pool.Length)
        {
            UsersWithoutNegatives++;
            for (var j = first; j < b; j++) negItems[j] = None;
            return;
        }
        var rng = new Xoshiro256(StableHash.SplitMix64(seed) ^ StableHash.Fmix64((ulong)ev[a].User));
        for (var j = first; j < b; j++)
        {
            long item;
            do item = pool[rng.Next(pool.Length)];
            while (_userItems.Contains(item));
            negItems[j] = item;
            negCategories[j] = categoryOf[item];
            if (split[j] != 0) Sampled++;
        }
    }
}
