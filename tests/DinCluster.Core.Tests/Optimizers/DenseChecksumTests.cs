using DinCluster.Core.Optimizers;

namespace DinCluster.Core.Tests.Optimizers;

public sealed class DenseChecksumTests
{
    [Fact]
    public void Flipping_any_bit_of_any_float_changes_the_checksum()
    {
        const int seed = 17;
        var random = new Random(seed);
        // 11 floats: five 64-bit words over the four lanes and the tail loop, plus an odd last float.
        var values = Enumerable.Range(0, 11).Select(_ => (float)random.NextDouble()).ToArray();
        var original = DenseChecksum.Of(values);
        Assert.Equal(original, DenseChecksum.Of((float[])values.Clone()));
        for (var i = 0; i < values.Length; i++)
            for (var bit = 0; bit < 32; bit++)
            {
                var flipped = (float[])values.Clone();
                flipped[i] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(flipped[i]) ^ (1u << bit));
                Assert.NotEqual(original, DenseChecksum.Of(flipped));
            }
    }

    [Fact]
    public void Arrays_of_zeros_of_different_lengths_differ()
    {
        var seen = Enumerable.Range(0, 12).Select(n => DenseChecksum.Of(new float[n])).ToHashSet();
        Assert.Equal(12, seen.Count);
    }
}
