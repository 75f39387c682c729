using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DinCluster.Model.Layers;

/// <summary>
/// Dice (DIN paper eq. 9) over channels C of s [rows, C]:
/// p = sigmoid((s - mean) / sqrt(var + 1e-8)), out = p * s + (1 - p) * alpha * s.
/// Training normalises with the statistics of the rows it is given (the caller passes only
/// valid positions) and folds them into running_mean/running_var as
/// running = 0.99 * running + 0.01 * batch; inference normalises with the running values.
/// The batch variance is the population variance, the one used to normalise.
/// </summary>
internal sealed class Dice : ChannelActivation
{
    public const double Epsilon = 1e-8;
    public const double Momentum = 0.01;

    public Parameter Alpha { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    public Dice(int channels, ScalarType dtype) : base("dice")
    {
        Alpha = new Parameter(zeros(channels, dtype));
        RunningMean = zeros(channels, dtype);
        RunningVar = ones(channels, dtype);
        register_parameter("alpha", Alpha);
        register_buffer("running_mean", RunningMean);
        register_buffer("running_var", RunningVar);
    }

    public override Tensor Forward(Tensor s, bool training)
    {
        Tensor mean, var;
        if (training)
        {
            mean = s.mean([0]);
            var = s.var(0, unbiased: false);
            using (no_grad())
            {
                RunningMean.mul_(Scalars.DiceKeep).add_(mean, Scalars.DiceMomentum);
                RunningVar.mul_(Scalars.DiceKeep).add_(var, Scalars.DiceMomentum);
            }
        }
        else
        {
            mean = RunningMean;
            var = RunningVar;
        }
        var p = ((s - mean) * var.add(Scalars.DiceEpsilon, Scalars.One).rsqrt()).sigmoid();
        // p*s + (1-p)*alpha*s = s * (alpha + (1 - alpha) * p) = s * (alpha + p - alpha * p)
        return s * (Alpha.add(p, Scalars.One) - Alpha * p);
    }
}
