using System.Text;

namespace DinCluster.Core.Routing;

/// <summary>
/// 64-bit mixes whose values never change between runs, processes or machines
/// (unlike <see cref="object.GetHashCode"/>): routing, row initialisation and snapshots rely on them.
/// </summary>
public static class StableHash
{
    /// <summary>MurmurHash3's fmix64 finaliser: a bijection on 64 bits with full avalanche.</summary>
    public static ulong Fmix64(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }

    /// <summary>SplitMix64's output function (Steele et al.); the generator adds <see cref="Golden"/> to its state per draw.</summary>
    public static ulong SplitMix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    /// <summary>2^64 / golden ratio, SplitMix64's state increment.</summary>
    public const ulong Golden = 0x9e3779b97f4a7c15UL;

    /// <summary>A per-table constant: FNV-1a over the UTF-8 bytes of the name, then fmix64.</summary>
    public static ulong OfName(string name)
    {
        var h = 0xcbf29ce484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            h ^= b;
            h *= 0x100000001b3UL;
        }
        return Fmix64(h);
    }
}
