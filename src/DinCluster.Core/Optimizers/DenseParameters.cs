namespace DinCluster.Core.Optimizers;

/// <summary>Adam hyper-parameters for the dense weights (Kingma and Ba 2015 defaults).</summary>
/// <param name="LearningRate">Step size.</param>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Epsilon">Added to the root of the corrected second moment.</param>
public sealed record AdamSettings(float LearningRate = 0.001f, float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f)
{
    /// <exception cref="ArgumentException">A field is out of range.</exception>
    public void Validate() =>
        new SparseOptimizerSettings(SparseOptimizerKind.Adam, LearningRate) { Beta1 = Beta1, Beta2 = Beta2, Epsilon = Epsilon }.Validate();
}

/// <summary>Everything needed to resume dense training: weights, both moments, and the step count.</summary>
public sealed record DenseState(long Step, float[] Values, float[] M, float[] V);

/// <summary>
/// The model's dense weights (MLP, attention unit, Dice/PReLU alphas) as one flat array, with
/// standard Adam: one global step t, bias correction 1/(1-b^t).
/// </summary>
public sealed class DenseParameters
{
    private readonly AdamSettings _settings;
    private readonly float[] _m;
    private readonly float[] _v;

    /// <summary>Starts from <paramref name="initial"/> (copied), zero moments, step 0.</summary>
    public DenseParameters(float[] initial, AdamSettings settings)
        : this(new DenseState(0, (float[])initial.Clone(), new float[initial.Length], new float[initial.Length]), settings)
    {
    }

    private DenseParameters(DenseState state, AdamSettings settings)
    {
        settings.Validate();
        if (state.M.Length != state.Values.Length || state.V.Length != state.Values.Length || state.Step < 0)
            throw new ArgumentException($"dense state has {state.Values.Length} values, {state.M.Length}/{state.V.Length} moments and step {state.Step}");
        _settings = settings;
        Values = state.Values;
        _m = state.M;
        _v = state.V;
        Step = state.Step;
    }

    /// <summary>The current weights; read them, do not write them.</summary>
    public float[] Values { get; }

    /// <summary>Adam steps applied so far.</summary>
    public long Step { get; private set; }

    /// <summary>Applies one Adam step. A gradient holding NaN or Inf is refused whole: returns false, nothing changes.</summary>
    public bool Apply(ReadOnlySpan<float> grad)
    {
        if (grad.Length != Values.Length) throw new ArgumentException($"dense gradient has {grad.Length} values, the parameters {Values.Length}");
        if (!Finite.All(grad)) return false;
        Step++;
        AdamOptimizer.Step(Values, _m, _v, grad, _settings.LearningRate, _settings.Beta1, _settings.Beta2, _settings.Epsilon, Step);
        return true;
    }

    /// <summary>A copy of the full state, for a checkpoint.</summary>
    public DenseState Export() => new(Step, (float[])Values.Clone(), (float[])_m.Clone(), (float[])_v.Clone());

    /// <summary>Resumes from an exported state (arrays copied).</summary>
    public static DenseParameters Import(DenseState state, AdamSettings settings) =>
        new(new DenseState(state.Step, (float[])state.Values.Clone(), (float[])state.M.Clone(), (float[])state.V.Clone()), settings);
}
