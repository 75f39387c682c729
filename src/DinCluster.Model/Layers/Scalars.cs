using TorchSharp;

namespace DinCluster.Model.Layers;

/// <summary>
/// Scalars the model passes to libtorch, created once and kept alive for the process.
/// Why: TorchSharp turns a C# number into a native Scalar whose finalizer frees it, and
/// hands only its handle to the native call; the GC may finalize that temporary while the
/// call still reads it, which fails at random ("Expected false to be true ... toFloat").
/// Even `a + b` passes an implicit alpha = 1 (`a - b` does not). So tensor code here uses
/// these rooted Scalars and the explicit-alpha overloads (a.add(b, One)), never a bare literal.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar DiceEpsilon = Dice.Epsilon.ToScalar();
    public static readonly Scalar DiceMomentum = Dice.Momentum.ToScalar();
    public static readonly Scalar DiceKeep = (1 - Dice.Momentum).ToScalar();
    public static readonly Scalar PReluInit = 0.25.ToScalar();
    /// <summary>Fill of padded positions before a masked softmax: exp gives exactly 0.</summary>
    public static readonly Scalar MaskFill = (-1e9).ToScalar();
}
