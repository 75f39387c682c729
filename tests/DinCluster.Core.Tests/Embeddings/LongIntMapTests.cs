using DinCluster.Core.Embeddings;

namespace DinCluster.Core.Tests.Embeddings;

public sealed class LongIntMapTests
{
    [Fact]
    public void Map_agrees_with_a_dictionary_when_keys_are_added_and_removed_at_random()
    {
        var rng = new Random(31);
        var map = new LongIntMap();
        var expected = new Dictionary<long, int>();
        // Few distinct keys with many collisions in the low bits, plus extremes.
        long Key() => rng.Next(4) == 0 ? (rng.Next(2) == 0 ? long.MinValue + rng.Next(8) : long.MaxValue - rng.Next(8)) : rng.Next(3000) * 1024L;
        for (var op = 0; op < 200_000; op++)
        {
            var k = Key();
            if (rng.Next(3) == 0)
            {
                Assert.Equal(expected.Remove(k), map.Remove(k));
            }
            else if (!expected.ContainsKey(k))
            {
                expected[k] = op;
                map.Add(k, op);
            }
            if (op % 997 == 0)
                foreach (var (key, row) in expected) Assert.Equal(row, map.Get(key));
        }
        Assert.Equal(expected.Count, map.Count);
        foreach (var (key, row) in expected) Assert.Equal(row, map.Get(key));
        Assert.Equal(-1, map.Get(12345));
    }
}
