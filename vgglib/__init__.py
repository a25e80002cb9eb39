"""vgglib: a reproduction of Simonyan & Zisserman, Very Deep Convolutional Networks for
Large-Scale Image Recognition (ICLR 2015), at any scale from two CPU cores to a GPU cluster."""

__version__ = "0.1.0"
