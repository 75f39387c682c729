using System.Numerics;
using System.Runtime.InteropServices;

namespace DinCluster.Core.Optimizers;

/// <summary>
/// Adagrad (Duchi et al. 2011), per coordinate: a += g^2; w -= lr * g / (sqrt(a) + eps).
/// Slot 0 is the accumulator a, starting at <see cref="SparseOptimizerSettings.InitialAccumulator"/>.
/// </summary>
public sealed class AdagradOptimizer(SparseOptimizerSettings settings) : ISparseOptimizer
{
    private readonly float _lr = settings.LearningRate;
    private readonly float _eps = settings.Epsilon;

    public SparseOptimizerSettings Settings { get; } = settings;
    public int SlotCount => 1;
    public float SlotInitialValue(int slot) => slot == 0 ? Settings.InitialAccumulator : throw new ArgumentOutOfRangeException(nameof(slot));

    public void Update(Span<float> weights, Span<float> slot0, Span<float> slot1, ReadOnlySpan<float> grad, int step)
    {
        var n = weights.Length;
        if (grad.Length != n || slot0.Length != n) throw new ArgumentException($"gradient/accumulator rows of {grad.Length}/{slot0.Length} for a row of {n}");
        ref var w = ref MemoryMarshal.GetReference(weights);
        ref var a = ref MemoryMarshal.GetReference(slot0);
        ref var g = ref MemoryMarshal.GetReference(grad);
        var lr = new Vector<float>(_lr);
        var eps = new Vector<float>(_eps);
        var i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var gi = Vector.LoadUnsafe(ref g, (nuint)i);
            var ai = Vector.LoadUnsafe(ref a, (nuint)i) + gi * gi;
            ai.StoreUnsafe(ref a, (nuint)i);
            (Vector.LoadUnsafe(ref w, (nuint)i) - lr * gi / (Vector.SquareRoot(ai) + eps)).StoreUnsafe(ref w, (nuint)i);
        }
        for (; i < n; i++)
        {
            var ai = slot0[i] + grad[i] * grad[i];
            slot0[i] = ai;
            weights[i] -= _lr * grad[i] / (MathF.Sqrt(ai) + _eps);
        }
    }
}
