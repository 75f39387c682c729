using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DinCluster.Model.Layers;

/// <summary>y = x Wᵀ + b with W [out, in] (PyTorch's nn.Linear layout); Glorot-uniform W, zero b.</summary>
internal sealed class LinearLayer : nn.Module<Tensor, Tensor>
{
    public Parameter Weight { get; }
    public Parameter Bias { get; }

    public LinearLayer(int input, int output, ScalarType dtype, InitRandom random) : base("linear")
    {
        Weight = new Parameter(Training.TensorData.FromDoubles(random.GlorotUniform(output, input), [output, input]).to(dtype));
        Bias = new Parameter(zeros(output, dtype));
        register_parameter("weight", Weight);
        register_parameter("bias", Bias);
    }

    public override Tensor forward(Tensor x) => nn.functional.linear(x, Weight, Bias);
}
