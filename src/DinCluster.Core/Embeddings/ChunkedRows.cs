using System.Numerics;
using System.Runtime.CompilerServices;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// A slab of fixed-width rows stored in chunks of 2^k rows, each chunk about 4 MiB:
/// <code>
///   row r -> chunk r >> k, offset (r &amp; (2^k - 1)) * width
///   [chunk 0: rows 0..2^k-1][chunk 1: rows 2^k..][chunk 2 ...]      (each a T[])
/// </code>
/// Growing appends a chunk and copies nothing, so a 10M x 64 table never needs a &gt;2 GB array
/// nor twice its size during a doubling. Chunk 0 alone starts small and doubles up to full size,
/// so small tables (tests, the local trainer) stay small.
/// </summary>
internal sealed class ChunkedRows<T> where T : unmanaged
{
    private const int ChunkBytes = 4 << 20;
    private const int FirstRows = 64;

    private readonly int _width;
    private readonly int _shift;
    private readonly int _chunkRows;
    private T[][] _chunks = [];

    public ChunkedRows(int width)
    {
        _width = width;
        _chunkRows = 1 << BitOperations.Log2((uint)Math.Max(1, ChunkBytes / (width * Unsafe.SizeOf<T>())));
        _shift = BitOperations.Log2((uint)_chunkRows);
    }

    public int Width => _width;

    /// <summary>Rows that can be addressed without growing.</summary>
    public int Capacity { get; private set; }

    public long Bytes => _chunks.Sum(c => (long)c.Length) * Unsafe.SizeOf<T>();

    public void EnsureCapacity(int rows)
    {
        while (Capacity < rows)
        {
            if (_chunks.Length == 0)
            {
                _chunks = [new T[Math.Min(FirstRows, _chunkRows) * _width]];
                Capacity = Math.Min(FirstRows, _chunkRows);
            }
            else if (Capacity < _chunkRows)
            {
                Capacity = Math.Min(_chunkRows, Capacity * 2);
                Array.Resize(ref _chunks[0], Capacity * _width);
            }
            else
            {
                Array.Resize(ref _chunks, _chunks.Length + 1);
                _chunks[^1] = new T[_chunkRows * _width];
                Capacity += _chunkRows;
            }
        }
    }

    public Span<T> Row(int r) => _chunks[r >> _shift].AsSpan((r & (_chunkRows - 1)) * _width, _width);

    /// <summary>Element <paramref name="r"/> of a width-1 slab.</summary>
    public ref T At(int r) => ref _chunks[r >> _shift][r & (_chunkRows - 1)];
}
