from rest_framework import serializers

from .models import Order


class MembershipOrderInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["monthly", "yearly"])
    payment_method = serializers.ChoiceField(choices=Order.Method.values)
    device = serializers.ChoiceField(
        choices=Order.Device.values,
        default=Order.Device.APP,
        help_text="miniprogram → WeChat JSAPI / Alipay wap pay; app (default) → APP / app pay; web → NATIVE codeUrl "
        "/ page pay (wap pay when the User-Agent is a phone's browser)",
    )


class PaymentInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=Order.Method.values)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, help_text="yuan; must equal the package's price"
    )
    device = serializers.ChoiceField(choices=Order.Device.values, default=Order.Device.APP)


class PointsPurchaseInput(serializers.Serializer):
    package_id = serializers.UUIDField()
    payment = PaymentInput()


class OrderCreatedOutput(serializers.Serializer):
    order_id = serializers.UUIDField(source="id")
    order_no = serializers.CharField()
    amount = serializers.DecimalField(source="amount_yuan", max_digits=12, decimal_places=2, coerce_to_string=False)
    type = serializers.CharField(source="item_type", help_text="monthly / yearly, or points")
    payment_method = serializers.CharField()
    device = serializers.CharField()
    status = serializers.CharField()
    pay_params = serializers.DictField(
        help_text="WeChat JSAPI {appId, timeStamp, nonceStr, package, signType, paySign}; WeChat APP {appid, "
        "partnerid, prepayid, package, noncestr, timestamp, sign}; WeChat NATIVE {codeUrl}; Alipay app "
        "{orderString}; Alipay page/wap {payUrl}; plus sandboxPayUrl in sandbox mode"
    )
    expire_at = serializers.DateTimeField()


class PointsOrderCreatedOutput(OrderCreatedOutput):
    package_id = serializers.UUIDField()
    points = serializers.IntegerField()


class OrderOutput(serializers.Serializer):
    order_id = serializers.UUIDField(source="id")
    order_no = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.DecimalField(source="amount_yuan", max_digits=12, decimal_places=2, coerce_to_string=False)
    type = serializers.CharField(source="item_type")
    payment_method = serializers.CharField()
    device = serializers.CharField()
    package_id = serializers.UUIDField(allow_null=True)
    points = serializers.IntegerField()
    paid_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    expire_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    refunded_at = serializers.DateTimeField(allow_null=True)


class OrderQueryOutput(serializers.Serializer):
    order_no = serializers.CharField()
    status = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)
