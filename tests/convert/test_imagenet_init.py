"""ImageNet init of the conv branch: from a local file, and a clear error offline."""

import urllib.error

import pytest
import torch
import torchvision

from samunet_tune import create_model
from samunet_tune.convert.imagenet import PretrainedWeightsUnavailable, load_conv_branch_imagenet


def test_local_torchvision_file_loads_into_the_conv_branch(tmp_path):
    torch.manual_seed(0)
    resnet = torchvision.models.resnet18()
    path = tmp_path / "resnet18.pth"
    torch.save(resnet.state_dict(), path)
    model = create_model("samunet_tiny", conv_branch="resnet18")
    load_conv_branch_imagenet(model, path)
    assert torch.equal(model.conv_branch.stem[0].weight, resnet.conv1.weight)
    assert torch.equal(model.conv_branch.stages[3][1].bn2.running_var, resnet.layer4[1].bn2.running_var)
    images = torch.randn(1, 3, 128, 128)
    model.eval(), resnet.eval()
    with torch.no_grad():
        expected = resnet.layer4(resnet.layer3(resnet.layer2(resnet.layer1(resnet.maxpool(resnet.relu(resnet.bn1(resnet.conv1(images))))))))
        torch.testing.assert_close(model.conv_branch(images)[3], expected)


def test_wrong_layout_file_is_explained(tmp_path):
    path = tmp_path / "resnet50.pth"
    torch.save(torchvision.models.resnet50().state_dict(), path)
    with pytest.raises(ValueError, match="not a torchvision resnet18"):
        load_conv_branch_imagenet(create_model("samunet_tiny", conv_branch="resnet18"), path)


def test_offline_download_names_the_weights_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # empty cache, so a download is needed

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    model = create_model("samunet_tiny", conv_branch="resnet34")
    with pytest.raises(PretrainedWeightsUnavailable) as caught:
        load_conv_branch_imagenet(model, "imagenet")
    message = str(caught.value)
    assert "ResNet34_Weights.IMAGENET1K_V1" in message and "resnet34-" in message
    assert "conv_branch_weights=PATH" in message and str(tmp_path) in message


def test_resnet10_has_no_imagenet_weights():
    with pytest.raises(ValueError, match="no ImageNet weights"):
        load_conv_branch_imagenet(create_model("samunet_tiny"), "imagenet")
