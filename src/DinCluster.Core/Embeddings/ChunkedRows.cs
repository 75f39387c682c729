using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// A slab of fixed-width float rows stored in chunks of 2^k rows, each chunk at most 32 MiB:
/// <code>
///   row r -> chunk r >> k, offset (r &amp; (2^k - 1)) * width
///   [chunk 0: rows 0..2^k-1][chunk 1: rows 2^k..][chunk 2 ...]      (each a float[])
/// </code>
/// Growing appends a chunk and copies nothing, so a 10M x 64 table never needs a &gt;2 GB array
/// nor twice its size during a doubling. Chunk 0 alone starts small and doubles up to full size,
/// so small tables (tests, the local trainer) stay small.
/// Chunks are pinned (they never move, so the addresses given to madvise and prefetch stay valid)
/// and, on Linux, advised to use transparent huge pages: random access to rows over gigabytes is
/// bound by TLB misses, which 2 MiB pages all but remove (PsBench: about +30% updates per second).
/// Chunks are not zeroed: every row is written when it is handed out.
/// </summary>
internal sealed partial class ChunkedRows
{
    public const int DefaultChunkBytes = 32 << 20;
    private const int FirstRows = 64;

    private readonly int _width;
    private readonly int _shift;
    private readonly int _chunkRows;
    private float[][] _chunks = [];

    /// <param name="width">Floats per row.</param>
    /// <param name="chunkBytes">Upper bound of a chunk's size (tests make it small to cross chunks cheaply).</param>
    public ChunkedRows(int width, int chunkBytes = DefaultChunkBytes)
    {
        _width = width;
        _chunkRows = 1 << BitOperations.Log2((uint)Math.Max(1, chunkBytes / (width * sizeof(float))));
        _shift = BitOperations.Log2((uint)_chunkRows);
    }

    /// <summary>Rows that can be addressed without growing.</summary>
    public int Capacity { get; private set; }

    public long Bytes => _chunks.Sum(c => (long)c.Length) * sizeof(float);

    public void EnsureCapacity(int rows)
    {
        while (Capacity < rows)
        {
            if (_chunks.Length == 0)
            {
                Capacity = Math.Min(FirstRows, _chunkRows);
                _chunks = [Allocate(Capacity * _width)];
            }
            else if (Capacity < _chunkRows)
            {
                Capacity = Math.Min(_chunkRows, Capacity * 2);
                var bigger = Allocate(Capacity * _width);
                _chunks[0].CopyTo(bigger, 0);
                _chunks[0] = bigger;
            }
            else
            {
                Array.Resize(ref _chunks, _chunks.Length + 1);
                _chunks[^1] = Allocate(_chunkRows * _width);
                Capacity += _chunkRows;
            }
        }
    }

    public Span<float> Row(int r) => _chunks[r >> _shift].AsSpan((r & (_chunkRows - 1)) * _width, _width);

    /// <summary>Hints the CPU to fetch every cache line of row <paramref name="r"/>.</summary>
    public unsafe void Prefetch(int r)
    {
        if (!Sse.IsSupported) return;
        var start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(Row(r)));
        var bytes = _width * sizeof(float);
        for (var offset = 0; offset < bytes; offset += 64) Sse.Prefetch0(start + offset);
    }

    private static unsafe float[] Allocate(int floats)
    {
        var chunk = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        if (OperatingSystem.IsLinux())
        {
            // Only whole, aligned 2 MiB pages inside the array can become huge pages.
            const long HugePage = 2 << 20;
            var start = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(chunk));
            var first = (start + HugePage - 1) & ~(HugePage - 1);
            var end = (start + floats * (long)sizeof(float)) & ~(HugePage - 1);
            // Advice only: where THP is off it fails and the chunk keeps 4 KiB pages.
            if (end > first) _ = Madvise((nint)first, (nuint)(end - first), MadvHugePage);
        }
        return chunk;
    }

    private const int MadvHugePage = 14;

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
