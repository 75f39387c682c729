using System.Numerics;
using System.Runtime.InteropServices;

namespace DinCluster.Core.Optimizers;

/// <summary>
/// FTRL-Proximal (McMahan et al. 2013, Algorithm 1), per coordinate with slot 0 = z, slot 1 = n
/// (both start at 0):
/// <code>
///   sigma = (sqrt(n + g^2) - sqrt(n)) / alpha
///   z    += g - sigma * w
///   n    += g^2
///   w     = |z| &lt;= l1 ? 0 : -(z - sign(z) * l1) / ((beta + sqrt(n)) / alpha + l2)
/// </code>
/// The weight row is stored (not recomputed from z, n on pull), so pulls cost the same for every
/// optimizer. A fresh row's random init enters z through the first sigma * w.
/// </summary>
public sealed class FtrlOptimizer(SparseOptimizerSettings settings) : ISparseOptimizer
{
    private readonly float _alpha = settings.LearningRate;
    private readonly float _beta = settings.FtrlBeta;
    private readonly float _l1 = settings.L1;
    private readonly float _l2 = settings.L2;

    public SparseOptimizerSettings Settings { get; } = settings;
    public int SlotCount => 2;
    public float SlotInitialValue(int slot) => slot is 0 or 1 ? 0f : throw new ArgumentOutOfRangeException(nameof(slot));

    public void Update(Span<float> weights, Span<float> slot0, Span<float> slot1, ReadOnlySpan<float> grad, int step)
    {
        var len = weights.Length;
        if (grad.Length != len || slot0.Length != len || slot1.Length != len) throw new ArgumentException($"gradient/z/n rows of {grad.Length}/{slot0.Length}/{slot1.Length} for a row of {len}");
        ref var w = ref MemoryMarshal.GetReference(weights);
        ref var z = ref MemoryMarshal.GetReference(slot0);
        ref var nr = ref MemoryMarshal.GetReference(slot1);
        ref var g = ref MemoryMarshal.GetReference(grad);
        Vector<float> alpha = new(_alpha), beta = new(_beta), l1 = new(_l1), l2 = new(_l2);
        var i = 0;
        for (; i <= len - Vector<float>.Count; i += Vector<float>.Count)
        {
            var gi = Vector.LoadUnsafe(ref g, (nuint)i);
            var ni = Vector.LoadUnsafe(ref nr, (nuint)i);
            var nNew = ni + gi * gi;
            var rootNew = Vector.SquareRoot(nNew);
            var sigma = (rootNew - Vector.SquareRoot(ni)) / alpha;
            var zi = Vector.LoadUnsafe(ref z, (nuint)i) + gi - sigma * Vector.LoadUnsafe(ref w, (nuint)i);
            zi.StoreUnsafe(ref z, (nuint)i);
            nNew.StoreUnsafe(ref nr, (nuint)i);
            var signedL1 = Vector.ConditionalSelect(Vector.LessThan(zi, Vector<float>.Zero), -l1, l1);
            var wi = -(zi - signedL1) / ((beta + rootNew) / alpha + l2);
            Vector.ConditionalSelect(Vector.GreaterThan(Vector.Abs(zi), l1), wi, Vector<float>.Zero).StoreUnsafe(ref w, (nuint)i);
        }
        for (; i < len; i++)
        {
            var gi = grad[i];
            var ni = slot1[i];
            var nNew = ni + gi * gi;
            var rootNew = MathF.Sqrt(nNew);
            var sigma = (rootNew - MathF.Sqrt(ni)) / _alpha;
            var zi = slot0[i] + gi - sigma * weights[i];
            slot0[i] = zi;
            slot1[i] = nNew;
            weights[i] = MathF.Abs(zi) > _l1 ? -(zi - (zi < 0 ? -_l1 : _l1)) / ((_beta + rootNew) / _alpha + _l2) : 0f;
        }
    }
}
