using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using DinCluster.Core.Routing;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// id -> row index. Open addressing with linear probing over one array of 16-byte entries (key and
/// value share a cache line), power-of-two capacity, load at most 3/4, and backward-shift deletion:
/// no tombstones, so eviction churn never lengthens probes. Every int64 is a valid key, so
/// emptiness is marked in the value (row + 1; 0 = empty).
/// </summary>
internal sealed class LongIntMap
{
    private struct Entry
    {
        public long Key;
        public int RowPlusOne;
    }

    private Entry[] _entries = new Entry[16];
    private int _mask = 15;

    public int Count { get; private set; }

    public long Bytes => (long)_entries.Length * Unsafe.SizeOf<Entry>();

    // A salt keeps the slot independent of the shard choice (which mixes id ^ table key).
    private static int Home(long key, int mask) => (int)StableHash.Fmix64((ulong)key ^ 0x6a09e667f3bcc909UL) & mask;

    /// <summary>The row of <paramref name="key"/>, or -1.</summary>
    public int Get(long key)
    {
        ref var first = ref MemoryMarshal.GetArrayDataReference(_entries);
        var mask = _mask;
        var i = Home(key, mask);
        while (true)
        {
            ref var e = ref Unsafe.Add(ref first, i);
            if (e.RowPlusOne == 0) return -1;
            if (e.Key == key) return e.RowPlusOne - 1;
            i = (i + 1) & mask;
        }
    }

    /// <summary>Hints the CPU to fetch the home slot of <paramref name="key"/> (a batch looks ids up a few ahead).</summary>
    public unsafe void Prefetch(long key)
    {
        // A prefetch never faults, so an address the GC may move right after is harmless.
        if (Sse.IsSupported)
            Sse.Prefetch0(Unsafe.AsPointer(ref _entries[Home(key, _mask)]));
    }

    /// <summary>Adds a key that is not present.</summary>
    public void Add(long key, int row)
    {
        if (Count + 1 > (_mask + 1) / 4 * 3) Grow();
        Insert(_entries, _mask, key, row + 1);
        Count++;
    }

    private static void Insert(Entry[] entries, int mask, long key, int rowPlusOne)
    {
        var i = Home(key, mask);
        while (entries[i].RowPlusOne != 0) i = (i + 1) & mask;
        entries[i].Key = key;
        entries[i].RowPlusOne = rowPlusOne;
    }

    private void Grow()
    {
        var bigger = new Entry[_entries.Length * 2];
        var mask = bigger.Length - 1;
        foreach (var e in _entries)
            if (e.RowPlusOne != 0) Insert(bigger, mask, e.Key, e.RowPlusOne);
        _entries = bigger;
        _mask = mask;
    }

    /// <summary>Removes a key; false when it was absent.</summary>
    public bool Remove(long key)
    {
        var entries = _entries;
        var mask = _mask;
        var i = Home(key, mask);
        while (true)
        {
            if (entries[i].RowPlusOne == 0) return false;
            if (entries[i].Key == key) break;
            i = (i + 1) & mask;
        }
        // Backward shift: pull later entries of the probe run into the hole unless their home
        // lies cyclically in (hole, j], where moving them would put them before their home.
        var j = i;
        while (true)
        {
            j = (j + 1) & mask;
            if (entries[j].RowPlusOne == 0) break;
            var home = Home(entries[j].Key, mask);
            var stays = i <= j ? i < home && home <= j : i < home || home <= j;
            if (stays) continue;
            entries[i] = entries[j];
            i = j;
        }
        entries[i] = default;
        Count--;
        return true;
    }
}
