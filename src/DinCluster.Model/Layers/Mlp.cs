using DinCluster.Model.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DinCluster.Model.Layers;

/// <summary>
/// Hidden layers fc.i + act.i, then a linear out -> 1 with no activation. The state_dict
/// names follow DESIGN.md: {prefix}.fc.{i}.weight, {prefix}.act.{i}.alpha, {prefix}.out.bias.
/// </summary>
internal sealed class Mlp : nn.Module
{
    private readonly ModuleList<LinearLayer> _fc;
    private readonly ModuleList<ChannelActivation> _act;
    private readonly LinearLayer _out;

    /// <summary>fc.0, whose weight the attention pooling splits by input block.</summary>
    public LinearLayer First => _fc[0];

    public Mlp(int input, IReadOnlyList<int> hidden, Activation activation, ScalarType dtype, InitRandom random) : base("mlp")
    {
        var fc = new List<LinearLayer>();
        var act = new List<ChannelActivation>();
        var width = input;
        foreach (var h in hidden)
        {
            fc.Add(new LinearLayer(width, h, dtype, random));
            act.Add(ChannelActivation.Create(activation, h, dtype));
            width = h;
        }
        _fc = new ModuleList<LinearLayer>(fc.ToArray());
        _act = new ModuleList<ChannelActivation>(act.ToArray());
        _out = new LinearLayer(width, 1, dtype, random);
        register_module("fc", _fc);
        register_module("act", _act);
        register_module("out", _out);
    }

    /// <summary>[rows, input] -> [rows, 1].</summary>
    public Tensor Forward(Tensor x, bool training) => FromFirstPreActivation(_fc[0].forward(x), training);

    /// <summary>Continues from fc.0's output (before act.0), for callers that compute fc.0 themselves.</summary>
    public Tensor FromFirstPreActivation(Tensor s0, bool training)
    {
        var h = _act[0].Forward(s0, training);
        for (var i = 1; i < _fc.Count; i++)
            h = _act[i].Forward(_fc[i].forward(h), training);
        return _out.forward(h);
    }
}
