using System.Globalization;

namespace DinCluster.Core.Optimizers;

public enum SparseOptimizerKind
{
    Sgd,
    Adagrad,
    Adam,
    Ftrl,
}

/// <summary>
/// The optimizer a parameter-server table applies to the rows of a push. Fields that a kind does
/// not use are ignored by it. Defaults follow TensorFlow where it has one (Adagrad's 0.1 initial
/// accumulator, Adam's betas) and McMahan et al. 2013 for FTRL-Proximal.
/// </summary>
/// <param name="Kind">Update rule.</param>
/// <param name="LearningRate">Step size; FTRL's alpha.</param>
public sealed record SparseOptimizerSettings(SparseOptimizerKind Kind, float LearningRate)
{
    /// <summary>Adagrad: accumulator start value. TF's 0.1 (PyTorch uses 0): a zero start makes the
    /// first step lr * sign(g) for every coordinate, far too large for a fresh embedding row.</summary>
    public float InitialAccumulator { get; init; } = 0.1f;

    /// <summary>Adagrad and Adam: added to the root in the denominator.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>Adam: decay of the first moment.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam: decay of the second moment.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>FTRL: beta of the per-coordinate rate alpha / (beta + sqrt(n)).</summary>
    public float FtrlBeta { get; init; } = 1f;

    /// <summary>FTRL: L1 strength (drives coordinates to exactly 0).</summary>
    public float L1 { get; init; }

    /// <summary>FTRL: L2 strength, as in McMahan et al. Algorithm 1 (TF's Ftrl doubles it).</summary>
    public float L2 { get; init; }

    /// <summary>A kind with its default learning rate: sgd 0.01, adagrad 0.05 (tf.estimator's DNN default), adam 0.001, ftrl 0.05.</summary>
    public static SparseOptimizerSettings Default(SparseOptimizerKind kind) => kind switch
    {
        SparseOptimizerKind.Sgd => new(kind, 0.01f),
        SparseOptimizerKind.Adagrad => new(kind, 0.05f),
        SparseOptimizerKind.Adam => new(kind, 0.001f),
        SparseOptimizerKind.Ftrl => new(kind, 0.05f),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown optimizer kind"),
    };

    /// <summary>
    /// Parses <c>kind[:key=value,...]</c>, e.g. <c>adagrad</c>, <c>adam:lr=0.01</c>,
    /// <c>ftrl:alpha=0.1,beta=1,l1=0.5,l2=0.1</c>. Kinds: sgd, adagrad, adam, ftrl. Keys: lr (alias alpha),
    /// initial_accumulator, epsilon, beta1, beta2, beta, l1, l2. Unset keys keep <see cref="Default"/>.
    /// </summary>
    /// <exception cref="FormatException">Unknown kind or key, or a value that is not a number or out of range.</exception>
    public static SparseOptimizerSettings Parse(string text)
    {
        var colon = text.IndexOf(':');
        var name = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        var settings = Default(name switch
        {
            "sgd" => SparseOptimizerKind.Sgd,
            "adagrad" => SparseOptimizerKind.Adagrad,
            "adam" => SparseOptimizerKind.Adam,
            "ftrl" => SparseOptimizerKind.Ftrl,
            _ => throw new FormatException($"optimizer is set to '{text}', must be one of sgd, adagrad, adam, ftrl (optionally followed by :key=value,...)"),
        });
        if (colon >= 0)
        {
            foreach (var part in text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = part.IndexOf('=');
                if (eq < 0) throw new FormatException($"optimizer option '{part}' in '{text}' is not key=value");
                var key = part[..eq].Trim().ToLowerInvariant();
                if (!float.TryParse(part[(eq + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new FormatException($"optimizer option {key} is set to '{part[(eq + 1)..]}', must be a number");
                settings = key switch
                {
                    "lr" or "alpha" => settings with { LearningRate = v },
                    "initial_accumulator" => settings with { InitialAccumulator = v },
                    "epsilon" => settings with { Epsilon = v },
                    "beta1" => settings with { Beta1 = v },
                    "beta2" => settings with { Beta2 = v },
                    "beta" => settings with { FtrlBeta = v },
                    "l1" => settings with { L1 = v },
                    "l2" => settings with { L2 = v },
                    _ => throw new FormatException($"optimizer option '{key}' in '{text}' is unknown; known: lr, alpha, initial_accumulator, epsilon, beta1, beta2, beta, l1, l2"),
                };
            }
        }
        try
        {
            settings.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
        return settings;
    }

    /// <exception cref="ArgumentException">A field is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        static void Check(bool ok, string what, float value, string must)
        {
            if (!ok) throw new ArgumentException($"optimizer {what} is set to {value.ToString(CultureInfo.InvariantCulture)}, must be {must}");
        }
        Check(float.IsFinite(LearningRate) && LearningRate > 0, "learning rate", LearningRate, "> 0");
        Check(float.IsFinite(InitialAccumulator) && InitialAccumulator >= 0, "initial_accumulator", InitialAccumulator, ">= 0");
        Check(float.IsFinite(Epsilon) && Epsilon >= 0, "epsilon", Epsilon, ">= 0");
        Check(Beta1 is >= 0 and < 1, "beta1", Beta1, "in [0, 1)");
        Check(Beta2 is >= 0 and < 1, "beta2", Beta2, "in [0, 1)");
        Check(float.IsFinite(FtrlBeta) && FtrlBeta >= 0, "beta", FtrlBeta, ">= 0");
        Check(float.IsFinite(L1) && L1 >= 0, "l1", L1, ">= 0");
        Check(float.IsFinite(L2) && L2 >= 0, "l2", L2, ">= 0");
        if (Kind == SparseOptimizerKind.Adagrad)
            Check(InitialAccumulator > 0 || Epsilon > 0, "initial_accumulator", InitialAccumulator, "> 0 when epsilon is 0 (the first step would divide by 0)");
        if (Kind == SparseOptimizerKind.Ftrl)
            Check(FtrlBeta > 0 || L2 > 0, "beta", FtrlBeta, "> 0 when l2 is 0 (the first step would divide by 0)");
    }

    /// <summary>The update rule these settings describe (validated).</summary>
    public ISparseOptimizer Create()
    {
        Validate();
        return Kind switch
        {
            SparseOptimizerKind.Sgd => new SgdOptimizer(this),
            SparseOptimizerKind.Adagrad => new AdagradOptimizer(this),
            SparseOptimizerKind.Adam => new AdamOptimizer(this),
            SparseOptimizerKind.Ftrl => new FtrlOptimizer(this),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown optimizer kind"),
        };
    }
}
