using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DinCluster.Model.Layers;

/// <summary>out = s for s &gt; 0, alpha * s otherwise; alpha per channel, init 0.25.</summary>
internal sealed class PRelu : ChannelActivation
{
    public Parameter Alpha { get; }

    public PRelu(int channels, ScalarType dtype) : base("prelu")
    {
        Alpha = new Parameter(full(channels, Scalars.PReluInit, dtype));
        register_parameter("alpha", Alpha);
    }

    public override Tensor Forward(Tensor s, bool training) => nn.functional.prelu(s, Alpha);
}
