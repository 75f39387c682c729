using System.Buffers.Binary;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; the checksum of iSCSI, ext4, LevelDB).
/// Chosen over zlib's CRC-32 because x86 (SSE4.2) and ARMv8 compute it in hardware, which keeps
/// checksumming multi-GB snapshots cheap; a table does it elsewhere.
/// Usage: <c>crc = Crc32C.Append(crc, bytes)</c> from 0; check value of "123456789" is 0xE3069283.
/// </summary>
public static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }

    /// <summary>The CRC of (the data behind <paramref name="crc"/>) followed by <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var c = ~crc;
        if (Sse42.X64.IsSupported)
        {
            ulong c64 = c;
            while (data.Length >= 8)
            {
                c64 = Sse42.X64.Crc32(c64, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
            c = (uint)c64;
        }
        else if (Crc32.Arm64.IsSupported)
        {
            while (data.Length >= 8)
            {
                c = Crc32.Arm64.ComputeCrc32C(c, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
        }
        foreach (var b in data) c = Table[(c ^ b) & 0xff] ^ (c >> 8);
        return ~c;
    }
}
