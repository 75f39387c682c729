using System.Numerics;
using System.Runtime.InteropServices;

namespace DinCluster.Core.Optimizers;

/// <summary>
/// Lazy Adam (Kingma and Ba 2015) for sparse rows: slot 0 is m, slot 1 is v, and the bias
/// correction uses the row's own update count t, not a global step. A row not in a push keeps
/// m, v and t unchanged, so a rare id's first updates are corrected as a first step would be
/// (a global t would leave its tiny m unscaled, and decaying untouched moments would cost a pass
/// over the table per push). Per coordinate:
/// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
/// </summary>
public sealed class AdamOptimizer(SparseOptimizerSettings settings) : ISparseOptimizer
{
    public SparseOptimizerSettings Settings { get; } = settings;
    public int SlotCount => 2;
    public float SlotInitialValue(int slot) => slot is 0 or 1 ? 0f : throw new ArgumentOutOfRangeException(nameof(slot));

    public void Update(Span<float> weights, Span<float> slot0, Span<float> slot1, ReadOnlySpan<float> grad, int step) =>
        Step(weights, slot0, slot1, grad, Settings.LearningRate, Settings.Beta1, Settings.Beta2, Settings.Epsilon, step);

    /// <summary>One Adam step at step number <paramref name="t"/> (>= 1); shared with <see cref="DenseParameters"/>.</summary>
    internal static void Step(Span<float> weights, Span<float> m, Span<float> v, ReadOnlySpan<float> grad,
        float learningRate, float beta1, float beta2, float epsilon, long t)
    {
        var n = weights.Length;
        if (grad.Length != n || m.Length != n || v.Length != n) throw new ArgumentException($"gradient/moment rows of {grad.Length}/{m.Length}/{v.Length} for a row of {n}");
        var c1s = (float)(1.0 / (1.0 - Math.Pow(beta1, t)));
        var c2s = (float)(1.0 / (1.0 - Math.Pow(beta2, t)));
        var b1s = beta1;
        var b2s = beta2;
        var d1s = 1f - beta1;
        var d2s = 1f - beta2;
        ref var w = ref MemoryMarshal.GetReference(weights);
        ref var mr = ref MemoryMarshal.GetReference(m);
        ref var vr = ref MemoryMarshal.GetReference(v);
        ref var g = ref MemoryMarshal.GetReference(grad);
        Vector<float> lr = new(learningRate), eps = new(epsilon), b1 = new(b1s), b2 = new(b2s), d1 = new(d1s), d2 = new(d2s), c1 = new(c1s), c2 = new(c2s);
        var i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var gi = Vector.LoadUnsafe(ref g, (nuint)i);
            var mi = b1 * Vector.LoadUnsafe(ref mr, (nuint)i) + d1 * gi;
            var vi = b2 * Vector.LoadUnsafe(ref vr, (nuint)i) + d2 * (gi * gi);
            mi.StoreUnsafe(ref mr, (nuint)i);
            vi.StoreUnsafe(ref vr, (nuint)i);
            (Vector.LoadUnsafe(ref w, (nuint)i) - lr * (mi * c1) / (Vector.SquareRoot(vi * c2) + eps)).StoreUnsafe(ref w, (nuint)i);
        }
        for (; i < n; i++)
        {
            var mi = b1s * m[i] + d1s * grad[i];
            var vi = b2s * v[i] + d2s * (grad[i] * grad[i]);
            m[i] = mi;
            v[i] = vi;
            weights[i] -= learningRate * (mi * c1s) / (MathF.Sqrt(vi * c2s) + epsilon);
        }
    }
}
