using DinCluster.Model.Networks;
using static TorchSharp.torch;

namespace DinCluster.Model.Layers;

/// <summary>A per-channel activation over [rows, channels]; <c>training</c> picks batch or running statistics where that matters.</summary>
internal abstract class ChannelActivation(string name) : nn.Module(name)
{
    public abstract Tensor Forward(Tensor s, bool training);

    public static ChannelActivation Create(Activation kind, int channels, ScalarType dtype) => kind switch
    {
        Activation.Sigmoid => new SigmoidActivation(),
        Activation.Relu => new ReluActivation(),
        Activation.PRelu => new PRelu(channels, dtype),
        Activation.Dice => new Dice(channels, dtype),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown activation"),
    };
}

internal sealed class SigmoidActivation() : ChannelActivation("sigmoid")
{
    public override Tensor Forward(Tensor s, bool training) => s.sigmoid();
}

internal sealed class ReluActivation() : ChannelActivation("relu")
{
    public override Tensor Forward(Tensor s, bool training) => s.relu();
}
