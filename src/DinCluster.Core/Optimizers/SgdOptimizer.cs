using System.Numerics;
using System.Runtime.InteropServices;

namespace DinCluster.Core.Optimizers;

/// <summary>Plain SGD: w -= lr * g. No slots.</summary>
public sealed class SgdOptimizer(SparseOptimizerSettings settings) : ISparseOptimizer
{
    private readonly float _lr = settings.LearningRate;

    public SparseOptimizerSettings Settings { get; } = settings;
    public int SlotCount => 0;
    public float SlotInitialValue(int slot) => throw new ArgumentOutOfRangeException(nameof(slot), "SGD has no slots");

    public void Update(Span<float> weights, Span<float> slot0, Span<float> slot1, ReadOnlySpan<float> grad, int step)
    {
        var n = weights.Length;
        if (grad.Length != n) throw new ArgumentException($"gradient has {grad.Length} values for a row of {n}");
        ref var w = ref MemoryMarshal.GetReference(weights);
        ref var g = ref MemoryMarshal.GetReference(grad);
        var lr = new Vector<float>(_lr);
        var i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            (Vector.LoadUnsafe(ref w, (nuint)i) - lr * Vector.LoadUnsafe(ref g, (nuint)i)).StoreUnsafe(ref w, (nuint)i);
        for (; i < n; i++)
            weights[i] -= _lr * grad[i];
    }
}
