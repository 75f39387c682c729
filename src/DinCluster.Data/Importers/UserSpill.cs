using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DinCluster.Core.Routing;

namespace DinCluster.Data.Importers;

/// <summary>A record a <see cref="UserSpill{T}"/> partitions by user: a fixed header, then
/// <see cref="TrailingLongs"/> int64 values (a sample's histories), or none.</summary>
internal interface ISpillRecord
{
    long User { get; }
    int TrailingLongs { get; }
}

/// <summary>
/// Per-user partitioning on disk, so an importer's memory is bounded by one partition, not the input:
/// <code>
///   pass 1: record ──hash(user) mod N──> tmp/part-L0-0007.bin  (every record of a user in one file)
///   pass 2: Drain() loads one file at a time; a file above MaxPartitionBytes (skew, a bad estimate)
///           is first re-split by another hash (level + 1) into smaller files
/// </code>
/// Only a single user larger than the budget cannot be split; that partition is loaded anyway.
/// Records keep their order within a file. Files are deleted as they are drained, the folder on Dispose.
/// </summary>
internal sealed class UserSpill<T> : IDisposable where T : unmanaged, ISpillRecord
{
    private const int MaxLevel = 6;
    private static readonly int HeaderBytes = Unsafe.SizeOf<T>();

    private readonly string _dir;
    private readonly FileStream[] _files;
    private readonly int _bufferBytes;
    private readonly List<string> _paths = [];
    private bool _anyTrailing;

    public long MaxPartitionBytes { get; }
    public long Records { get; private set; }
    public int Partitions => _files.Length;

    /// <summary>Partitions loaded by <see cref="Drain"/>: the initial ones, less those re-split, plus their parts.</summary>
    public int Loaded { get; private set; }

    public UserSpill(string dir, int partitions, long maxPartitionBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        _dir = Directory.CreateDirectory(dir).FullName;
        MaxPartitionBytes = Math.Max(1 << 16, maxPartitionBytes);
        // all write buffers together stay a small share of the budget
        _bufferBytes = (int)Math.Clamp(MaxPartitionBytes / 8 / partitions, 4096, 1 << 16);
        _files = new FileStream[partitions];
        for (var p = 0; p < partitions; p++)
        {
            var path = PartPath(0, p);
            _paths.Add(path);
            _files[p] = Create(path);
        }
    }

    /// <summary>Partitions needed for <paramref name="estimatedBytes"/> of records (at most 512 open files).</summary>
    public static int PartitionsFor(long estimatedBytes, long maxPartitionBytes) =>
        (int)Math.Clamp((estimatedBytes + maxPartitionBytes - 1) / Math.Max(1, maxPartitionBytes), 1, 512);

    public void Add(in T record, ReadOnlySpan<long> trailing = default)
    {
        if (trailing.Length != record.TrailingLongs) throw new ArgumentException("trailing values do not match the record's count", nameof(trailing));
        var file = _files[Partition(record.User, 0, _files.Length)];
        file.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in record)));
        if (!trailing.IsEmpty)
        {
            file.Write(MemoryMarshal.AsBytes(trailing));
            _anyTrailing = true;
        }
        Records++;
    }

    /// <summary>Closes the writers, then yields the partitions one at a time (each one's buffers are reused by
    /// the next: consume a chunk before moving on).</summary>
    public IEnumerable<SpillChunk<T>> Drain()
    {
        foreach (var f in _files) f.Dispose();
        var work = new Stack<(string Path, int Level)>(_paths.Select(p => (p, 0)).Reverse());
        var chunk = new SpillChunk<T>();
        while (work.Count > 0)
        {
            var (path, level) = work.Pop();
            var size = new FileInfo(path).Length;
            if (size > MaxPartitionBytes && level < MaxLevel)
            {
                var parts = PartitionsFor(size * 2, MaxPartitionBytes);   // twice as many as needed: hashes are uneven
                var subPaths = Resplit(path, level + 1, parts);
                for (var i = subPaths.Count - 1; i >= 0; i--) work.Push((subPaths[i], level + 1));
                continue;
            }
            Load(path, size, chunk);
            Loaded++;
            File.Delete(path);
            if (chunk.Count > 0) yield return chunk;
        }
    }

    private List<string> Resplit(string path, int level, int parts)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var subPaths = Enumerable.Range(0, parts).Select(p => Path.Combine(_dir, $"{name}-L{level}-{p:D4}.bin")).ToList();
        var outs = subPaths.Select(Create).ToArray();
        try
        {
            using var input = Open(path);
            var header = new T[1];
            var trailing = new long[64];
            while (input.Position < input.Length)
            {
                input.ReadExactly(MemoryMarshal.AsBytes(header.AsSpan()));
                var n = header[0].TrailingLongs;
                if (trailing.Length < n) trailing = new long[Math.Max(n, trailing.Length * 2)];
                input.ReadExactly(MemoryMarshal.AsBytes(trailing.AsSpan(0, n)));
                var o = outs[Partition(header[0].User, level, parts)];
                o.Write(MemoryMarshal.AsBytes(header.AsSpan()));
                o.Write(MemoryMarshal.AsBytes(trailing.AsSpan(0, n)));
            }
        }
        finally
        {
            foreach (var o in outs) o.Dispose();
        }
        File.Delete(path);
        return subPaths;
    }

    private void Load(string path, long size, SpillChunk<T> chunk)
    {
        using var input = Open(path);
        chunk.Count = 0;
        chunk.TrailingCount = 0;
        if (!_anyTrailing)
        {
            // fixed-size records: one read straight into the array
            var n = checked((int)(size / HeaderBytes));
            chunk.Ensure(n);
            input.ReadExactly(MemoryMarshal.AsBytes(chunk.Records.AsSpan(0, n)));
            chunk.Count = n;
            Array.Clear(chunk.TrailingStart, 0, n + 1);
            return;
        }
        var header = new T[1];
        while (input.Position < input.Length)
        {
            input.ReadExactly(MemoryMarshal.AsBytes(header.AsSpan()));
            var k = header[0].TrailingLongs;
            chunk.Ensure(chunk.Count + 1);
            chunk.EnsureTrailing(chunk.TrailingCount + k);
            chunk.Records[chunk.Count] = header[0];
            chunk.TrailingStart[chunk.Count] = chunk.TrailingCount;
            input.ReadExactly(MemoryMarshal.AsBytes(chunk.Trailing.AsSpan(chunk.TrailingCount, k)));
            chunk.TrailingCount += k;
            chunk.Count++;
        }
        chunk.TrailingStart[chunk.Count] = chunk.TrailingCount;
    }

    private static int Partition(long user, int level, int parts) =>
        (int)(StableHash.Fmix64((ulong)user ^ StableHash.SplitMix64(StableHash.Golden * (ulong)(level + 1))) % (ulong)parts);

    private string PartPath(int level, int index) => Path.Combine(_dir, $"part-L{level}-{index:D4}.bin");

    private FileStream Create(string path) => new(path, FileMode.Create, FileAccess.Write, FileShare.None, _bufferBytes);

    private static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        try
        {
            if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // temp files left behind are harmless; the import's own result stands
        }
    }
}

/// <summary>One loaded partition: records [0, Count), record i's trailing values at
/// Trailing[TrailingStart[i] .. TrailingStart[i + 1]).</summary>
internal sealed class SpillChunk<T> where T : unmanaged
{
    public T[] Records = [];
    public int[] TrailingStart = [0];
    public long[] Trailing = [];
    public int Count;
    public int TrailingCount;

    public ReadOnlySpan<long> TrailingOf(int i) => Trailing.AsSpan(TrailingStart[i], TrailingStart[i + 1] - TrailingStart[i]);

    public void Ensure(int n)
    {
        if (Records.Length < n) Array.Resize(ref Records, Math.Max(n, Records.Length + Records.Length / 2));
        if (TrailingStart.Length < n + 1) Array.Resize(ref TrailingStart, Math.Max(n + 1, TrailingStart.Length + TrailingStart.Length / 2));
    }

    public void EnsureTrailing(int n)
    {
        if (Trailing.Length < n) Array.Resize(ref Trailing, Math.Max(n, Trailing.Length * 2));
    }
}
