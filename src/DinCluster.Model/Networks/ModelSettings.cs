namespace DinCluster.Model.Networks;

/// <summary>Which network: the paper's DIN, or its baseline without attention.</summary>
public enum ModelPreset
{
    /// <summary>Attention-weighted sum pooling of the history: v = sum_t a_t * k_t.</summary>
    Din,

    /// <summary>The paper's BaseModel: plain sum pooling v = sum_t k_t (no attention unit).</summary>
    Base,
}

/// <summary>Per-channel activation of a hidden layer.</summary>
public enum Activation
{
    Sigmoid,

    /// <summary>Data-adaptive PReLU (paper eq. 9): batch statistics in training, running averages at inference.</summary>
    Dice,

    /// <summary>Leaky ReLU with a learned slope per channel (init 0.25).</summary>
    PRelu,

    Relu,
}

/// <summary>Element type of the model's parameters and of its computation.</summary>
public enum ModelPrecision
{
    Float32,

    /// <summary>For gradient checks; the train-step contract still speaks float arrays.</summary>
    Float64,
}

/// <summary>
/// Shape and initialisation of the dense part of the network. Embeddings are not here:
/// they live on the parameter servers and come in as pulled rows.
/// </summary>
public sealed record ModelSettings
{
    /// <summary>din (default) or base.</summary>
    public ModelPreset Preset { get; init; } = ModelPreset.Din;

    /// <summary>Hidden widths of the activation unit; default [80, 40]. Unused by the base preset.</summary>
    public IReadOnlyList<int> AttentionHidden { get; init; } = [80, 40];

    /// <summary>Hidden activation of the activation unit; sigmoid by default.</summary>
    public Activation AttentionActivation { get; init; } = Activation.Sigmoid;

    /// <summary>Normalise the attention scores with a softmax over the valid positions (the paper does not).</summary>
    public bool AttentionSoftmax { get; init; }

    /// <summary>Hidden widths of the prediction MLP; default [200, 80].</summary>
    public IReadOnlyList<int> MlpHidden { get; init; } = [200, 80];

    /// <summary>Hidden activation of the prediction MLP; dice by default.</summary>
    public Activation MlpActivation { get; init; } = Activation.Dice;

    /// <summary>Seed of the deterministic weight initialisation.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Fails with "X is set to ..., must be ..." on the first inconsistent setting.</summary>
    public void Validate()
    {
        static void Widths(string name, IReadOnlyList<int> widths)
        {
            if (widths.Count == 0)
                throw new ArgumentException($"{name} is set to [], must hold at least one hidden width");
            foreach (var w in widths)
                if (w <= 0) throw new ArgumentException($"{name} is set to [{string.Join(", ", widths)}], must hold widths > 0");
        }
        if (!Enum.IsDefined(Preset)) throw new ArgumentException($"Preset is set to {Preset}, must be din or base");
        if (!Enum.IsDefined(AttentionActivation)) throw new ArgumentException($"AttentionActivation is set to {AttentionActivation}, must be sigmoid, dice, prelu or relu");
        if (!Enum.IsDefined(MlpActivation)) throw new ArgumentException($"MlpActivation is set to {MlpActivation}, must be sigmoid, dice, prelu or relu");
        if (Preset == ModelPreset.Din) Widths(nameof(AttentionHidden), AttentionHidden);
        Widths(nameof(MlpHidden), MlpHidden);
    }

    public bool Equals(ModelSettings? other) =>
        other is not null
        && Preset == other.Preset
        && AttentionHidden.SequenceEqual(other.AttentionHidden)
        && AttentionActivation == other.AttentionActivation
        && AttentionSoftmax == other.AttentionSoftmax
        && MlpHidden.SequenceEqual(other.MlpHidden)
        && MlpActivation == other.MlpActivation
        && Seed == other.Seed;

    public override int GetHashCode() =>
        HashCode.Combine(Preset, AttentionActivation, AttentionSoftmax, MlpActivation, Seed, AttentionHidden.Count, MlpHidden.Count);
}
