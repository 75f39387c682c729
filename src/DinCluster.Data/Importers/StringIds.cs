using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace DinCluster.Data.Importers;

/// <summary>
/// String ids (Amazon's reviewerID / asin, category and genre names) to int64: the first 64 bits of
/// MurmurHash3_x64_128 (seed 0) over the string's UTF-8 bytes, read as a signed integer. The same value as
/// Python's <c>mmh3.hash64(s, signed=True)[0]</c>, so an id can be recomputed outside this code. No state and no
/// vocabulary is needed, which keeps importers streaming; two strings colliding has probability about
/// n^2 / 2^65 (1e-5 for 20 million distinct strings). Importers still check the vocabularies they hold.
/// </summary>
public static class StringIds
{
    public static long Of(string s) => Of(s.AsSpan());

    public static long Of(ReadOnlySpan<char> s)
    {
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var n = Encoding.UTF8.GetBytes(s, buffer);
            return (long)Murmur3X64Low(buffer[..n], 0);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>h1 of MurmurHash3_x64_128 (Austin Appleby's reference, public domain).</summary>
    internal static ulong Murmur3X64Low(ReadOnlySpan<byte> data, uint seed)
    {
        const ulong c1 = 0x87c37b91114253d5UL;
        const ulong c2 = 0x4cf5ad432745937fUL;
        ulong h1 = seed, h2 = seed;
        var blocks = data.Length / 16;
        for (var i = 0; i < blocks; i++)
        {
            var k1 = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i * 16));
            var k2 = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i * 16 + 8));
            k1 *= c1; k1 = ulong.RotateLeft(k1, 31); k1 *= c2; h1 ^= k1;
            h1 = ulong.RotateLeft(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
            k2 *= c2; k2 = ulong.RotateLeft(k2, 33); k2 *= c1; h2 ^= k2;
            h2 = ulong.RotateLeft(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
        }

        var tail = data.Slice(blocks * 16);
        ulong t1 = 0, t2 = 0;
        for (var i = tail.Length - 1; i >= 8; i--) t2 = (t2 << 8) | tail[i];
        for (var i = Math.Min(tail.Length, 8) - 1; i >= 0; i--) t1 = (t1 << 8) | tail[i];
        if (tail.Length > 8)
        {
            t2 *= c2; t2 = ulong.RotateLeft(t2, 33); t2 *= c1; h2 ^= t2;
        }
        if (tail.Length > 0)
        {
            t1 *= c1; t1 = ulong.RotateLeft(t1, 31); t1 *= c2; h1 ^= t1;
        }

        h1 ^= (ulong)data.Length;
        h2 ^= (ulong)data.Length;
        h1 += h2;
        h2 += h1;
        h1 = Fmix(h1);
        h2 = Fmix(h2);
        h1 += h2;
        return h1;
    }

    private static ulong Fmix(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }
}
